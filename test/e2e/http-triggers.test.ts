import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { traceHeader } from '../helpers/traced-function.js';
import { type HttpFunction, startHttpFunction } from './http-harness.js';

/*
 * The invocation span for each trigger, end to end: the AWS-shaped event fixtures delivered by the
 * Runtime API emulator to a function running through the built layer (nodejs24.x), and the
 * incoming-context policy (`OTEL_LAMBDA_XRAY_INCOMING_CONTEXT`) with Lambda's header sampled,
 * unsampled or absent.
 */

const SERVER = 2;
const UNSET = 0;
const ERROR = 2;
const EVENTS = new URL('../../../test/fixtures/events/', import.meta.url);

function loadEvent(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, EVENTS), 'utf8')) as Record<string, unknown>;
}

/** A fixture event whose `traceparent` request header names a fresh caller trace. */
function withCallerTrace(name: string): { event: Record<string, unknown>; traceId: string; spanId: string } {
  const event = loadEvent(name);
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const traceparent = `00-${traceId}-${spanId}-01`;
  // An ALB in multi-value mode sends only `multiValueHeaders`; REST APIs send both maps.
  const headers = event.headers as Record<string, string> | undefined;
  if (headers) headers.traceparent = traceparent;
  const multi = event.multiValueHeaders as Record<string, string[]> | undefined;
  if (multi) multi.traceparent = [traceparent];
  return { event, traceId, spanId };
}

function spanIn(receiver: OtlpReceiver, traceId: string): ReceivedSpan {
  const span = receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER);
  assert.ok(span, `no invocation span in trace ${traceId}`);
  return span;
}

interface TriggerCase {
  fixture: string;
  respondWith?: unknown;
  name: string;
  attributes: Record<string, unknown>;
  status: number;
  absent?: string[];
}

const CASES: TriggerCase[] = [
  {
    fixture: 'apigw-rest-orders.json',
    respondWith: { statusCode: 503, body: 'down' },
    name: 'GET /orders/{id}',
    attributes: {
      'faas.trigger': 'http',
      'http.route': '/orders/{id}',
      'http.request.method': 'GET',
      'http.method': 'GET',
      'url.full':
        'https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/orders/123?token=REDACTED&page=2',
      'http.url':
        'https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/orders/123?token=REDACTED&page=2',
      'client.address': '52.255.255.12',
      'http.response.status_code': 503,
      'http.status_code': 503,
      'error.type': '503',
    },
    status: ERROR,
    absent: ['http.request.header.authorization'],
  },
  {
    fixture: 'apigw-rest-proxy-any.json',
    // No statusCode with payload 1.0: API Gateway answers 502 (malformed proxy response).
    respondWith: { body: 'forgot the status' },
    name: 'POST /{proxy+}',
    attributes: { 'http.route': '/{proxy+}', 'http.response.status_code': 502 },
    status: ERROR,
  },
  {
    fixture: 'apigw-http-v2-orders.json',
    respondWith: { statusCode: 404, body: 'no such order' },
    name: 'GET /orders/{id}',
    attributes: {
      'faas.trigger': 'http',
      'http.route': '/orders/{id}',
      'url.query': 'token=REDACTED&page=2',
      'http.response.status_code': 404,
      'http.status_code': 404,
    },
    // A 4xx is the client's error: the status code says so, the span status stays unset.
    status: UNSET,
    absent: ['error.type'],
  },
  {
    fixture: 'apigw-http-v2-default.json',
    respondWith: 'a bare string',
    name: 'PUT',
    // Payload 2.0 infers a 200 from a result without statusCode.
    attributes: { 'http.request.method': 'PUT', 'http.response.status_code': 200 },
    status: UNSET,
    absent: ['http.route'],
  },
  {
    fixture: 'alb.json',
    respondWith: { statusCode: 200, statusDescription: '200 OK', body: 'ok' },
    name: 'GET',
    attributes: {
      'faas.trigger': 'http',
      'url.full':
        'http://lambda-alb-123578498.us-east-2.elb.amazonaws.com/lambda?query=1234ABCD&access_token=REDACTED',
      'http.response.status_code': 200,
    },
    status: UNSET,
    absent: ['http.route'],
  },
  {
    fixture: 'function-url.json',
    respondWith: { statusCode: 500, body: 'oops' },
    name: 'POST',
    attributes: {
      'faas.trigger': 'http',
      'server.address': 'a1b2c3d4e5f6g7h8i9j0kl.lambda-url.us-west-2.on.aws',
      'http.response.status_code': 500,
    },
    status: ERROR,
    absent: ['http.route'],
  },
  {
    fixture: 'eventbridge-schedule.json',
    name: 'my-scheduled-rule',
    attributes: { 'faas.trigger': 'timer', 'faas.time': '2015-10-08T16:53:06Z' },
    status: UNSET,
    absent: ['http.response.status_code'],
  },
  {
    fixture: 's3.json',
    name: 'amzn-s3-demo-bucket insert',
    attributes: {
      'faas.trigger': 'datasource',
      'faas.document.collection': 'amzn-s3-demo-bucket',
      'faas.document.operation': 'insert',
      'faas.document.name': 'uploads/my photo(1).jpg',
    },
    status: UNSET,
  },
  {
    fixture: 'direct.json',
    name: 'fixture-http-client',
    attributes: { 'faas.trigger': 'other' },
    status: UNSET,
    absent: ['http.request.method'],
  },
];

describe('triggers through the built layer on nodejs24.x', () => {
  let receiver: OtlpReceiver;
  const functions = new Map<string, HttpFunction>();
  const start = async (policy: string | undefined) => {
    const env: Record<string, string> = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
    if (policy !== undefined) env.OTEL_LAMBDA_XRAY_INCOMING_CONTEXT = policy;
    const fn = await startHttpFunction('nodejs24.x', 'http-client', env);
    functions.set(policy ?? 'default', fn);
    return fn;
  };
  before(async () => {
    receiver = await OtlpReceiver.start();
  });
  after(async () => {
    for (const fn of functions.values()) await fn.cleanup();
    await receiver.close();
  });

  test('each trigger: span name, kind, attributes and the status the result implies', async () => {
    const fn = await start(undefined);
    for (const c of CASES) {
      const event = loadEvent(c.fixture);
      if (c.respondWith !== undefined) event.respondWith = c.respondWith;
      const header = traceHeader(true);
      const result = await fn.invoke(event, { traceHeader: header.header });
      assert.equal(result.status, 'success', `${c.fixture}: ${fn.output()}`);
      const span = spanIn(receiver, header.traceId);
      assert.equal(span.parentSpanId, header.parentId, `${c.fixture}: not under Lambda's header`);
      assert.equal(span.name, c.name, c.fixture);
      assert.equal(span.kind, SERVER, c.fixture);
      for (const [key, value] of Object.entries(c.attributes)) {
        assert.deepEqual(span.attributes[key], value, `${c.fixture}: ${key}`);
      }
      for (const key of c.absent ?? []) assert.equal(span.attributes[key], undefined, `${c.fixture}: ${key}`);
      assert.equal(span.status.code, c.status, `${c.fixture}: status`);
    }
  });

  test('default policy: Lambda sampled keeps Lambda as parent and links the caller', async () => {
    const fn = functions.get('default') ?? (await start(undefined));
    const caller = withCallerTrace('apigw-rest-orders.json');
    const header = traceHeader(true);
    await fn.invoke(caller.event, { traceHeader: header.header });
    const span = spanIn(receiver, header.traceId);
    assert.equal(span.parentSpanId, header.parentId);
    assert.deepEqual(
      span.links.map((l) => [l.traceId, l.spanId]),
      [[caller.traceId, caller.spanId]],
    );
  });

  test("default policy: Lambda unsampled or silent, the caller's traceparent is continued", async () => {
    const fn = functions.get('default') ?? (await start(undefined));
    const unsampled = withCallerTrace('apigw-http-v2-orders.json');
    const lambda = traceHeader(false);
    await fn.invoke(unsampled.event, { traceHeader: lambda.header });
    const span = spanIn(receiver, unsampled.traceId);
    assert.equal(span.parentSpanId, unsampled.spanId);
    assert.equal(span.name, 'GET /orders/{id}');
    assert.deepEqual(span.links, [], 'an unsampled Lambda context recorded nothing to link to');
    assert.equal(
      receiver.spans.some((s) => s.traceId === lambda.traceId),
      false,
    );

    const silent = withCallerTrace('function-url.json');
    await fn.invoke(silent.event);
    assert.equal(spanIn(receiver, silent.traceId).parentSpanId, silent.spanId);
  });

  test("policy lambda: Sampled=0 from Lambda records nothing, whatever the caller's header", async () => {
    const fn = await start('lambda');
    const caller = withCallerTrace('apigw-http-v2-orders.json');
    await fn.invoke(caller.event, { traceHeader: traceHeader(false).header });
    // A sampled invocation after it flushes whatever the first one queued.
    const sampled = traceHeader(true);
    await fn.invoke(withCallerTrace('alb.json').event, { traceHeader: sampled.header });
    spanIn(receiver, sampled.traceId);
    assert.equal(
      receiver.spans.some((s) => s.traceId === caller.traceId),
      false,
    );
  });

  test("policy incoming: the caller's header wins and Lambda's sampled context is linked", async () => {
    const fn = await start('incoming');
    const caller = withCallerTrace('alb-multi-value.json');
    const lambda = traceHeader(true);
    await fn.invoke(caller.event, { traceHeader: lambda.header });
    const span = spanIn(receiver, caller.traceId);
    assert.equal(span.parentSpanId, caller.spanId);
    assert.deepEqual(
      span.links.map((l) => [l.traceId, l.spanId]),
      [[lambda.traceId, lambda.parentId]],
    );
  });
});
