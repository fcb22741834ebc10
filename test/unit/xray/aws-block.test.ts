import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unqualifiedFunctionArn } from '../../../src/xray/aws-block.js';

/** The rule as first written: split at every `:`, keep the first 7 parts of a function ARN. */
function bySplitting(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 && parts[5] === 'function' ? parts.slice(0, 7).join(':') : arn;
}

test('a function ARN loses its qualifier exactly as splitting at every colon would', () => {
  const arns = [
    'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live',
    'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:$LATEST',
    'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:7:extra',
    'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
    'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:',
    'arn:aws:lambda:eu-west-1:123456789012:layer:otel:3',
    'arn:aws:lambda:eu-west-1:123456789012:functions:orders-api:live',
    'arn:aws:lambda:::::function:x:y',
    ':::::function::',
    ':::::function:',
    'function',
    '',
    ':',
    'arn:aws:sqs:eu-west-1:123456789012:orders',
  ];
  for (const arn of arns) assert.equal(unqualifiedFunctionArn(arn), bySplitting(arn), arn);
});
