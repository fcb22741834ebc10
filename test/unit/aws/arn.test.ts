import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountIdOf, parseArn, parseFunctionArn } from '../../../src/aws/arn.js';
import { arnAttributes } from '../../../src/lambda/function-resource.js';

describe('ARNs', () => {
  it('splits an ARN into its fields, the resource keeping its colons', () => {
    assert.deepEqual(
      parseArn('arn:aws:dynamodb:eu-west-1:123456789012:table/T/stream/2026-01-01T00:00:00.000'),
      {
        partition: 'aws',
        service: 'dynamodb',
        region: 'eu-west-1',
        account: '123456789012',
        resource: 'table/T/stream/2026-01-01T00:00:00.000',
      },
    );
    for (const notAnArn of ['', 'arn:aws:sqs', 'urn:aws:sqs:r:a:q', 42, undefined]) {
      assert.equal(parseArn(notAnArn), undefined, String(notAnArn));
    }
  });

  it('reads a function ARN with and without its qualifier', () => {
    const base = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
    assert.deepEqual(parseFunctionArn(`${base}:live`), {
      account: '123456789012',
      unqualified: base,
      qualifier: 'live',
    });
    assert.deepEqual(parseFunctionArn(base), {
      account: '123456789012',
      unqualified: base,
      qualifier: undefined,
    });
    assert.equal(parseFunctionArn('arn:aws:lambda:eu-west-1:123456789012:layer:otel:3'), undefined);
    assert.equal(parseFunctionArn('arn:aws:lambda:eu-west-1:123456789012:function:'), undefined);
  });

  it('takes an account ID only when it is one (12 digits)', () => {
    assert.equal(accountIdOf('arn:aws:sqs:eu-west-1:123456789012:q'), '123456789012');
    assert.equal(accountIdOf('arn:aws:s3:::bucket'), undefined);
    assert.equal(accountIdOf('arn:aws:sqs:eu-west-1:12345:q'), undefined);
    assert.equal(accountIdOf(undefined), undefined);
  });

  it('cloud.resource_id names the version that ran in place of an alias, the bare ARN for $LATEST', () => {
    const base = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
    assert.deepEqual(arnAttributes(`${base}:live`, '7'), {
      'cloud.resource_id': `${base}:7`,
      'cloud.account.id': '123456789012',
    });
    assert.deepEqual(arnAttributes(base, '$LATEST'), {
      'cloud.resource_id': base,
      'cloud.account.id': '123456789012',
    });
    assert.deepEqual(arnAttributes(`${base}:live`, '$LATEST'), {
      'cloud.resource_id': base,
      'cloud.account.id': '123456789012',
    });
    assert.deepEqual(arnAttributes('not-an-arn', '1'), { 'cloud.resource_id': 'not-an-arn' });
  });
});
