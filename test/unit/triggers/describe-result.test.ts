import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { describeInvocation, describeResult } from '../../../src/lambda/triggers/index.js';
import { loadEvent } from './fixtures.js';

const rest = describeInvocation(loadEvent('apigw-rest-orders.json'));
const httpApi = describeInvocation(loadEvent('apigw-http-v2-orders.json'));
const functionUrl = describeInvocation(loadEvent('function-url.json'));
const alb = describeInvocation(loadEvent('alb.json'));
const sqs = describeInvocation(loadEvent('sqs-single.json'));

function codeOf(attributes: Record<string, unknown>): unknown {
  assert.equal(attributes['http.status_code'], attributes['http.response.status_code']);
  return attributes['http.response.status_code'];
}

describe('describeResult', () => {
  for (const [label, description] of [
    ['REST', rest],
    ['HTTP API', httpApi],
    ['function URL', functionUrl],
    ['ALB', alb],
  ] as const) {
    it(`${label}: 200 is not an error`, () => {
      const r = describeResult(description, { statusCode: 200, body: '{}' });
      assert.equal(codeOf(r.attributes), 200);
      assert.equal(r.status, undefined);
    });

    it(`${label}: 404 is recorded but leaves the SERVER span status unset`, () => {
      // X-Ray still shows an error: the exporter derives it from the 4xx code.
      const r = describeResult(description, { statusCode: 404 });
      assert.equal(codeOf(r.attributes), 404);
      assert.equal(r.status, undefined);
      assert.equal('error.type' in r.attributes, false);
    });

    it(`${label}: 503 is an ERROR (X-Ray fault)`, () => {
      const r = describeResult(description, { statusCode: 503 });
      assert.equal(codeOf(r.attributes), 503);
      assert.deepEqual(r.status, { code: SpanStatusCode.ERROR });
      assert.equal(r.attributes['error.type'], '503');
    });
  }

  it('payload 2.0: a plain string is a 200', () => {
    for (const description of [httpApi, functionUrl]) {
      const r = describeResult(description, 'hello');
      assert.equal(codeOf(r.attributes), 200);
      assert.equal(r.status, undefined);
    }
  });

  it('payload 2.0: undefined, a number or an object without statusCode is a 200', () => {
    for (const result of [undefined, null, 42, { message: 'ok' }, [1, 2]]) {
      assert.equal(codeOf(describeResult(httpApi, result).attributes), 200);
    }
  });

  it('payload 1.0: a plain string or undefined is the gateway 502', () => {
    for (const description of [rest, alb]) {
      for (const result of ['hello', undefined, { body: 'no status' }]) {
        const r = describeResult(description, result);
        assert.equal(codeOf(r.attributes), 502);
        assert.equal(r.status?.code, SpanStatusCode.ERROR);
        assert.match(r.status?.message ?? '', /502/);
      }
    }
  });

  it('accepts a numeric string status and rejects nonsense', () => {
    assert.equal(codeOf(describeResult(rest, { statusCode: '201' }).attributes), 201);
    assert.equal(codeOf(describeResult(httpApi, { statusCode: 'abc' }).attributes), 502);
    assert.equal(codeOf(describeResult(rest, { statusCode: 99 }).attributes), 502);
    assert.equal(codeOf(describeResult(rest, { statusCode: 200.5 }).attributes), 502);
  });

  it('records status codes as integers', () => {
    assert.equal(typeof describeResult(rest, { statusCode: 200 }).attributes['http.status_code'], 'number');
  });

  it('adds nothing for non-HTTP triggers', () => {
    assert.deepEqual(describeResult(sqs, { batchItemFailures: [] }), { attributes: {} });
    assert.deepEqual(describeResult(describeInvocation(null), 'x'), { attributes: {} });
  });

  it('never throws on a hostile result', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    assert.deepEqual(describeResult(rest, hostile), { attributes: {} });
  });
});
