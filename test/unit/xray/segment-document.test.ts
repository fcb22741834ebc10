import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { toSegmentDocuments } from '../../../src/xray/segment-document.js';
import type { XRaySegmentDocument } from '../../../src/xray/segment-types.js';
import { LAMBDA_CONTEXT, LAMBDA_FACADE, makeTracing, validDocuments } from './helpers.js';

/** Translates and schema-checks; every test goes through here. */
function translate(span: ReadableSpan, options = {}): XRaySegmentDocument {
  const documents = validDocuments(toSegmentDocuments(span, options));
  assert.equal(documents.length, 1);
  return documents[0];
}

const { record, under } = makeTracing();

function lambdaServerSpan(attributes: Record<string, string | number> = {}) {
  return record(
    'orders-api',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'faas.trigger': 'http',
        'faas.execution': 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live',
        'cloud.account.id': '123456789012',
        'http.request.method': 'GET',
        'http.method': 'GET',
        'url.path': '/orders',
        'url.query': 'limit=5',
        'url.scheme': 'https',
        'server.address': 'abc.execute-api.eu-west-1.amazonaws.com',
        'http.route': '/orders',
        'http.response.status_code': 200,
        'user_agent.original': 'curl/8.5.0',
        'client.address': '203.0.113.7',
        ...attributes,
      },
    },
    LAMBDA_CONTEXT,
  );
}

test('a Lambda SERVER span becomes a segment under Lambda’s own segment', () => {
  const span = lambdaServerSpan();
  const document = translate(span);

  assert.equal(document.name, 'orders-api');
  assert.equal(document.id, span.spanContext().spanId);
  assert.equal(document.trace_id, '1-5f84c7a0-bb5ab5f0b0c1d2e3f4a5b6c7');
  assert.equal(document.parent_id, LAMBDA_FACADE.spanId);
  assert.equal(document.type, undefined, 'a segment has no type');
  assert.equal(document.namespace, undefined);
  assert.equal(document.origin, 'AWS::Lambda::Function');
  assert.deepEqual(document.service, { version: '1.4.2' });
  assert.deepEqual([document.fault, document.error, document.throttle], [false, false, false]);
  assert.equal(document.in_progress, undefined);

  const [startSeconds, startNanos] = span.startTime;
  assert.equal(document.start_time, startSeconds + Math.round(startNanos / 1000) / 1e6);
  assert.ok(document.end_time !== undefined && document.end_time >= document.start_time);
  assert.equal(Math.round(document.start_time * 1e6) / 1e6, document.start_time, 'microsecond precision');

  assert.deepEqual(document.http, {
    request: {
      method: 'GET',
      url: 'https://abc.execute-api.eu-west-1.amazonaws.com/orders?limit=5',
      user_agent: 'curl/8.5.0',
      client_ip: '203.0.113.7',
      x_forwarded_for: true,
    },
    response: { status: 200 },
  });

  assert.equal(document.aws?.account_id, '123456789012');
  assert.equal(document.aws?.function_arn, 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api');
  assert.deepEqual(document.aws?.cloudwatch_logs, [{ log_group: '/aws/lambda/orders-api' }]);
  assert.deepEqual(document.aws?.xray, {
    sdk: 'opentelemetry for nodejs',
    sdk_version: '2.12.0',
    auto_instrumentation: false,
  });

  const metadata = document.metadata?.default ?? {};
  assert.equal(metadata['otel.resource.faas.name'], 'orders-api', 'segments carry the resource');
  assert.equal(metadata['faas.execution'], 'c6af9ac6-7b61-11e6-9a41-93e812345678');
  assert.equal(metadata['http.route'], '/orders');
  for (const used of [
    'http.request.method',
    'url.path',
    'client.address',
    'aws.lambda.invoked_arn',
    'cloud.account.id',
  ]) {
    assert.equal(metadata[used], undefined, `${used} went into a field, not metadata`);
  }
  assert.equal(document.annotations, undefined, 'nothing is indexed unless asked');
});

test('a span that has not ended is in progress', () => {
  const { tracer } = makeTracing();
  const running = tracer.startSpan('still running', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  const document = translate(running as unknown as ReadableSpan);
  assert.equal(document.in_progress, true);
  assert.equal(document.end_time, undefined);
  running.end();
});

test('an INTERNAL child becomes an independent subsegment; a root span a segment', () => {
  const root = record('job', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
  const child = record('compute totals', { kind: SpanKind.INTERNAL }, under(root));

  const segment = translate(root);
  assert.equal(segment.type, undefined);
  assert.equal(segment.parent_id, undefined);
  assert.equal(segment.name, 'orders-api', 'a segment is named after the service');

  const subsegment = translate(child);
  assert.equal(subsegment.type, 'subsegment');
  assert.equal(subsegment.parent_id, root.spanContext().spanId);
  assert.equal(subsegment.trace_id, segment.trace_id);
  assert.equal(subsegment.name, 'compute totals');
  assert.equal(subsegment.namespace, undefined, 'in-process work is neither aws nor remote');
  assert.equal(subsegment.origin, undefined);
  assert.equal(
    subsegment.metadata?.default?.['otel.resource.service.name'],
    undefined,
    'only segments carry the resource',
  );
});

test('a CONSUMER span under a remote parent (an SQS message) becomes a segment', () => {
  const document = translate(record('orders process', { kind: SpanKind.CONSUMER }, LAMBDA_CONTEXT));
  assert.equal(document.type, undefined);
  assert.equal(document.parent_id, LAMBDA_FACADE.spanId);
  assert.equal(document.name, 'orders-api');
});

function httpClientSpan(
  status: number | undefined,
  extra: (span: import('@opentelemetry/api').Span) => void = () => {},
) {
  const parent = lambdaServerSpan();
  return record(
    'GET',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'GET',
        'url.full': 'https://api.example.com/v1/stock?sku=42',
        'server.address': 'api.example.com',
        'server.port': 443,
        'http.method': 'GET',
        'http.url': 'https://api.example.com/v1/stock?sku=42',
        'net.peer.name': 'api.example.com',
        ...(status === undefined ? {} : { 'http.response.status_code': status, 'http.status_code': status }),
      },
    },
    under(parent),
    extra,
  );
}

test('HTTP client 200: a remote subsegment named after the host', () => {
  const document = translate(httpClientSpan(200));
  assert.equal(document.type, 'subsegment');
  assert.equal(document.namespace, 'remote');
  assert.equal(document.name, 'api.example.com');
  assert.deepEqual(document.http, {
    request: { method: 'GET', url: 'https://api.example.com/v1/stock?sku=42' },
    response: { status: 200 },
  });
  assert.deepEqual([document.fault, document.error, document.throttle], [false, false, false]);
  assert.equal(document.cause, undefined);
});

test('HTTP client 404 is an error, 429 an error and a throttle, 503 a fault', () => {
  const notFound = translate(httpClientSpan(404));
  assert.deepEqual([notFound.fault, notFound.error, notFound.throttle], [false, true, false]);

  const tooMany = translate(httpClientSpan(429));
  assert.deepEqual([tooMany.fault, tooMany.error, tooMany.throttle], [false, true, true]);

  // The HTTP instrumentation sets ERROR on 5xx; the status code decides anyway.
  const unavailable = translate(
    httpClientSpan(503, (span) =>
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'Service Unavailable' }),
    ),
  );
  assert.deepEqual([unavailable.fault, unavailable.error, unavailable.throttle], [true, false, false]);
  assert.equal(unavailable.http?.response?.status, 503);
  assert.equal(unavailable.cause?.exceptions?.[0]?.message, 'Service Unavailable');
});

test('HTTP client network error: a fault with a remote exception', () => {
  const document = translate(
    httpClientSpan(undefined, (span) => {
      const error = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }),
  );
  assert.deepEqual([document.fault, document.error, document.throttle], [true, false, false]);
  assert.equal(document.http?.response, undefined);
  const [exception] = document.cause?.exceptions ?? [];
  assert.equal(exception.type, 'ECONNREFUSED', 'the SDK records an error’s code as its type');
  assert.equal(exception.message, 'connect ECONNREFUSED 10.0.0.1:443');
  assert.equal(exception.remote, true, 'a client span’s error came from the other side');
  assert.match(exception.id, /^[0-9a-f]{16}$/);
});

test('HTTP attributes of the old conventions alone build the same block', () => {
  const document = translate(
    record(
      'GET',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.method': 'POST',
          'http.scheme': 'http',
          'net.peer.name': 'inventory.internal',
          'net.peer.port': 8080,
          'http.target': '/reserve',
          'http.status_code': '201',
          'http.user_agent': 'node',
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(document.name, 'inventory.internal');
  assert.deepEqual(document.http, {
    request: { method: 'POST', url: 'http://inventory.internal:8080/reserve', user_agent: 'node' },
    response: { status: 201 },
  });
});

test('credentials in a URL never reach X-Ray, and long URLs are cut to the schema’s 250', () => {
  const document = translate(
    record(
      'GET',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'GET',
          'url.full': `https://bob:s3cret@files.example.com/${'a'.repeat(400)}`,
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  const url = document.http?.request?.url ?? '';
  assert.ok(url.startsWith('https://files.example.com/'), url);
  assert.ok(!url.includes('s3cret'));
  assert.equal(url.length, 250);
});

test('a pg query: sql block, password stripped, named database@host', () => {
  const document = translate(
    record(
      'pg.query:SELECT orders',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system': 'postgresql',
          'db.name': 'orders',
          'db.user': 'app',
          'db.statement': 'SELECT * FROM orders WHERE id = $1',
          'db.connection_string': 'postgresql://app:hunter2@db.internal:5432/orders',
          'net.peer.name': 'db.internal',
          'net.peer.port': 5432,
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(document.type, 'subsegment');
  assert.equal(document.namespace, 'remote');
  assert.equal(document.name, 'orders@db.internal');
  assert.deepEqual(document.sql, {
    database_type: 'postgresql',
    url: 'postgresql://db.internal:5432/orders',
    sanitized_query: 'SELECT * FROM orders WHERE id = $1',
    user: 'app',
  });
  assert.equal(document.http, undefined, 'a database span is not an HTTP span');
  assert.ok(!JSON.stringify(document).includes('hunter2'), 'the password appears nowhere');
});

test('a pg query with the stable database conventions', () => {
  const document = translate(
    record(
      'SELECT orders',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.namespace': 'orders',
          'db.query.text': 'SELECT 1',
          'server.address': 'db.internal',
          'server.port': 5432,
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(document.name, 'orders@db.internal');
  assert.deepEqual(document.sql, {
    database_type: 'postgresql',
    url: 'postgresql://db.internal:5432/orders',
    sanitized_query: 'SELECT 1',
  });
});

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders';

test('an SQS SendMessage span: aws namespace and block', () => {
  const document = translate(
    record(
      'orders send',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'rpc.system': 'aws-api',
          'rpc.service': 'SQS',
          'rpc.method': 'SendMessage',
          'cloud.region': 'eu-west-1',
          'messaging.system': 'aws_sqs',
          'messaging.destination.name': 'orders',
          'url.full': QUEUE_URL,
          'aws.request.id': '6fd1e8c5-1d9f-5b6b-a7b2-0d1c2b3a4f5e',
          'messaging.message.id': '5fea7756-0ea4-451a-a703-a558b933e274',
          'http.status_code': 200,
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(document.type, 'subsegment');
  assert.equal(document.namespace, 'aws');
  assert.equal(document.name, 'SQS');
  assert.equal(document.aws?.operation, 'SendMessage');
  assert.equal(document.aws?.region, 'eu-west-1');
  assert.equal(document.aws?.queue_url, QUEUE_URL);
  assert.equal(document.aws?.request_id, '6fd1e8c5-1d9f-5b6b-a7b2-0d1c2b3a4f5e');
  assert.equal(document.metadata?.default?.['messaging.message.id'], '5fea7756-0ea4-451a-a703-a558b933e274');
  assert.equal(document.metadata?.default?.['rpc.method'], undefined);
});

test('the collector’s queue URL keys are read too, semantic conventions first', () => {
  const document = translate(
    record(
      'send',
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'rpc.system': 'aws-api', 'aws.queue_url': 'https://old', 'messaging.url': QUEUE_URL },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(document.aws?.queue_url, QUEUE_URL);
});

function dynamoSpan(attributes: Record<string, string | string[]>, body?: Parameters<typeof record>[3]) {
  return record(
    'DynamoDB.GetItem',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'rpc.system': 'aws-api',
        'rpc.service': 'DynamoDB',
        'rpc.method': 'GetItem',
        'db.system': 'dynamodb',
        'db.system.name': 'dynamodb',
        // The AWS SDK instrumentation names the table here too: the subsegment is still DynamoDB's.
        'db.namespace': 'orders',
        'cloud.region': 'eu-west-1',
        ...attributes,
      },
    },
    under(lambdaServerSpan()),
    body,
  );
}

test('a DynamoDB span: table name(s) in the aws block, no sql block', () => {
  const one = translate(dynamoSpan({ 'aws.dynamodb.table_names': ['orders'] }));
  assert.equal(one.name, 'DynamoDB');
  assert.equal(one.namespace, 'aws');
  assert.equal(one.aws?.operation, 'GetItem');
  assert.equal(one.aws?.table_name, 'orders');
  assert.equal(one.aws?.table_names, undefined);
  assert.equal(one.sql, undefined, 'DynamoDB is not an SQL database');

  const two = translate(dynamoSpan({ 'aws.dynamodb.table_names': ['orders', 'customers'] }));
  assert.equal(two.aws?.table_name, undefined);
  assert.deepEqual(two.aws?.table_names, ['orders', 'customers']);

  const legacy = translate(dynamoSpan({ 'aws.table_name': 'legacy' }));
  assert.equal(legacy.aws?.table_name, 'legacy');
});

test('an AWS throttling error is a throttle and an error, not a fault', () => {
  const document = translate(
    dynamoSpan({ 'aws.dynamodb.table_names': ['orders'] }, (span) => {
      const error = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
        name: 'ProvisionedThroughputExceededException',
      });
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }),
  );
  assert.deepEqual([document.fault, document.error, document.throttle], [false, true, true]);
  assert.equal(document.cause?.exceptions?.[0]?.type, 'ProvisionedThroughputExceededException');

  // Throttled with a 5xx (S3's SlowDown is a 503), as the SDK instrumentation marks it.
  const slowDown = translate(
    dynamoSpan(
      { 'http.response.status_code': '503', 'error.type': 'SlowDown', 'aws.throttled': 'true' },
      (span) => {
        span.setAttribute('aws.throttled', true);
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'Please reduce your request rate.' });
      },
    ),
  );
  assert.deepEqual([slowDown.fault, slowDown.error, slowDown.throttle], [false, true, true]);
});

test('SNS topic ARN, Lambda function name, S3 bucket go to the aws block', () => {
  const topic = 'arn:aws:sns:eu-west-1:123456789012:order-events';
  const sns = translate(
    record(
      'publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'rpc.system': 'aws-api',
          'rpc.service': 'SNS',
          'rpc.method': 'Publish',
          'messaging.destination.name': topic,
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(sns.aws?.topic_arn, topic);

  const invoke = translate(
    record(
      'billing Invoke',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'rpc.system': 'aws-api',
          'rpc.service': 'Lambda',
          'rpc.method': 'Invoke',
          'faas.invoked_name': 'billing',
        },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(invoke.name, 'Lambda');
  assert.equal(invoke.aws?.function_name, 'billing');

  const s3 = translate(
    record(
      'S3.PutObject',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'aws.s3.bucket': 'invoices' },
      },
      under(lambdaServerSpan()),
    ),
  );
  assert.equal(s3.aws?.bucket_name, 'invoices');
});

test('an exception event becomes cause.exceptions with parsed stack frames', () => {
  const error = new TypeError('Cannot read properties of undefined (reading "total")');
  const document = translate(
    record('compute', { kind: SpanKind.INTERNAL }, under(lambdaServerSpan()), (span) => {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }),
  );
  assert.deepEqual([document.fault, document.error, document.throttle], [true, false, false]);
  const [exception] = document.cause?.exceptions ?? [];
  assert.equal(exception.type, 'TypeError');
  assert.equal(exception.message, 'Cannot read properties of undefined (reading "total")');
  assert.equal(exception.remote, false);
  const frames = exception.stack ?? [];
  assert.ok(frames.length > 0);
  const top = frames[0];
  assert.ok(top.path?.endsWith('segment-document.test.js'), `top frame path: ${top.path}`);
  assert.ok(!top.path?.startsWith('file://'), 'ESM file URLs read as paths');
  assert.ok(Number.isInteger(top.line) && (top.line ?? 0) > 0);
  assert.equal(typeof top.label, 'string');
});

test('an ERROR status with no exception event: a fault, with the status message as cause', () => {
  const withMessage = translate(
    record('step', {}, under(lambdaServerSpan()), (span) =>
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad input' }),
    ),
  );
  assert.equal(withMessage.fault, true);
  assert.equal(withMessage.cause?.exceptions?.[0]?.message, 'bad input');

  const bare = translate(
    record('step', {}, under(lambdaServerSpan()), (span) => span.setStatus({ code: SpanStatusCode.ERROR })),
  );
  assert.equal(bare.fault, true);
  assert.equal(bare.cause, undefined);
});

test('annotations come from indexedAttributes and aws.xray.annotations; the rest is metadata', () => {
  const span = record(
    'checkout',
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'tenant.id': 'acme',
        'order.id': 'o-123',
        'order.total': 99.5,
        'is.priority': true,
        tags: ['a', 'b'],
        'not.indexed': 'stays in metadata',
        'aws.xray.annotations': ['order.id', 'order.total', 'is.priority', 'tags', 'absent.key'],
        'aws.xray.metadata.billing': '{"plan":"pro","seats":3}',
        'enduser.id': 'user-42',
      },
    },
    ROOT_CONTEXT,
  );
  const document = translate(span, { indexedAttributes: ['tenant.id', 'otel.resource.faas.name'] });

  assert.deepEqual(document.annotations, {
    tenant_id: 'acme',
    order_id: 'o-123',
    order_total: 99.5,
    is_priority: true,
    otel_resource_faas_name: 'orders-api',
  });
  const metadata = document.metadata ?? {};
  assert.deepEqual(
    metadata.default?.tags,
    ['a', 'b'],
    'an array cannot be an annotation: it stays in metadata',
  );
  assert.equal(metadata.default?.['not.indexed'], 'stays in metadata');
  assert.equal(metadata.default?.['tenant.id'], undefined);
  assert.equal(metadata.default?.['aws.xray.annotations'], undefined);
  assert.deepEqual(metadata.billing, { plan: 'pro', seats: 3 });
  assert.equal(document.user, 'user-42');
});

test('indexAllAttributes makes every scalar attribute an annotation', () => {
  const document = translate(
    record('work', { attributes: { 'a.b': 'x', 'c-d': 2, list: [1, 2] } }, under(lambdaServerSpan())),
    { indexAllAttributes: true },
  );
  assert.deepEqual(document.annotations, { a_b: 'x', c_d: 2 });
  assert.deepEqual(document.metadata?.default, { list: [1, 2] });
});

test('an indexed attribute a block already used is still annotated', () => {
  const document = translate(httpClientSpan(200), { indexedAttributes: ['http.request.method'] });
  assert.equal(document.annotations?.http_request_method, 'GET');
  assert.equal(document.http?.request?.method, 'GET');
});

test('span links: X-Ray trace IDs, span IDs and attributes', () => {
  const producer = record('orders send', { kind: SpanKind.PRODUCER }, ROOT_CONTEXT);
  const document = translate(
    record(
      'orders process',
      {
        kind: SpanKind.CONSUMER,
        links: [
          { context: producer.spanContext(), attributes: { 'messaging.message.id': 'm-1' } },
          { context: { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 } },
        ],
      },
      LAMBDA_CONTEXT,
    ),
  );
  const { traceId, spanId } = producer.spanContext();
  assert.deepEqual(document.links, [
    {
      trace_id: `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`,
      id: spanId,
      attributes: { 'messaging.message.id': 'm-1' },
    },
  ]);
});

test('names lose forbidden characters and are cut to 200', () => {
  const forbidden = translate(record('GET /orders?id=<1> \\ \t{x}; ok_-@', {}, under(lambdaServerSpan())));
  assert.equal(forbidden.name, 'GET /ordersid=1  x ok_-@');

  const long = translate(record(`job-${'é'.repeat(300)}`, {}, under(lambdaServerSpan())));
  assert.equal(long.name.length, 200);
  assert.ok(long.name.startsWith('job-éé'));

  const nothingLeft = translate(record('<<>>', {}, under(lambdaServerSpan())));
  assert.equal(nothingLeft.name, 'span');

  const service = translate(record('x', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT));
  assert.equal(service.name, 'orders-api');
});

test('odd input never throws: bad IDs give no document, odd values are tolerated', () => {
  const good = lambdaServerSpan();
  const badTrace = {
    ...good,
    spanContext: () => ({ ...good.spanContext(), traceId: 'not-hex' }),
  } as ReadableSpan;
  assert.deepEqual(toSegmentDocuments(badTrace, {}), []);

  const throwing = {
    ...good,
    spanContext: () => {
      throw new Error('boom');
    },
  } as ReadableSpan;
  assert.deepEqual(toSegmentDocuments(throwing, {}), []);

  const odd = translate({
    ...good,
    spanContext: () => good.spanContext(),
    ended: true,
    attributes: {
      'http.status_code': 'not a number',
      'db.system': 42,
      'aws.xray.annotations': 'tenant',
      tenant: Number.NaN,
      'aws.xray.metadata.x': 'not json',
      'aws.dynamodb.table_names': [null, 'orders', undefined],
    },
  } as unknown as ReadableSpan);
  assert.equal(odd.http?.response?.status, undefined);
  assert.equal(odd.aws?.table_name, 'orders');
  assert.equal(odd.annotations, undefined, 'NaN is not an annotation value');
  assert.equal(odd.metadata?.default?.['aws.xray.metadata.x'], 'not json');
});

/** A CLIENT span under the invocation span, translated. */
function translateClientCall(attributes: Record<string, string | string[]>): XRaySegmentDocument {
  return translate(record('call', { kind: SpanKind.CLIENT, attributes }, under(lambdaServerSpan())));
}

test('every key that names an AWS resource fills its aws field on a span that is not an AWS SDK call', () => {
  // The translation skips the groups of keys a span does not carry: each key must still be found
  // when it is the only one of its group, and leave metadata as a field.
  const sns = 'arn:aws:sns:eu-west-1:123456789012:orders';
  const cases: [Record<string, string | string[]>, string, unknown][] = [
    [{ 'aws.operation': 'GetObject' }, 'operation', 'GetObject'],
    [{ 'aws.region': 'eu-west-1' }, 'region', 'eu-west-1'],
    [{ 'aws.request_id': 'r-1' }, 'request_id', 'r-1'],
    [{ 'aws.requestId': 'r-2' }, 'request_id', 'r-2'],
    [{ 'aws.request.id': 'r-3' }, 'request_id', 'r-3'],
    [{ 'messaging.url': QUEUE_URL }, 'queue_url', QUEUE_URL],
    [{ 'aws.sqs.queue.url': QUEUE_URL }, 'queue_url', QUEUE_URL],
    [{ 'aws.queue_url': QUEUE_URL }, 'queue_url', QUEUE_URL],
    [{ 'aws.queue.url': QUEUE_URL }, 'queue_url', QUEUE_URL],
    [{ 'aws.dynamodb.table_names': ['orders'] }, 'table_name', 'orders'],
    [{ 'aws.table_name': 'orders' }, 'table_name', 'orders'],
    [{ 'aws.table.name': 'orders' }, 'table_name', 'orders'],
    [{ 'aws.sns.topic.arn': sns }, 'topic_arn', sns],
    [{ 'messaging.destination.name': sns }, 'topic_arn', sns],
    [{ 'messaging.destination': sns }, 'topic_arn', sns],
    [
      { 'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:123456789012:function:billing:live' },
      'function_arn',
      'arn:aws:lambda:eu-west-1:123456789012:function:billing',
    ],
    [{ 'faas.invoked_name': 'billing' }, 'function_name', 'billing'],
    [{ 'aws.s3.bucket': 'invoices' }, 'bucket_name', 'invoices'],
    [{ 'aws.s3.key': '2026/12.pdf' }, 'key_name', '2026/12.pdf'],
  ];
  for (const [attributes, field, expected] of cases) {
    const [key] = Object.keys(attributes);
    const document = translateClientCall(attributes);
    assert.deepEqual(document.aws?.[field as keyof typeof document.aws], expected, key);
    if (!key?.startsWith('messaging.destination')) {
      assert.equal(document.metadata?.default?.[key as string], undefined, `${key} left metadata`);
    }
  }
});

test('a span carrying keys of two groups gets the fields of both and no other', () => {
  const document = translateClientCall({
    'aws.s3.bucket': 'invoices',
    'aws.region': 'eu-west-1',
    'http.request.method': 'PUT',
  });
  const { account_id, cloudwatch_logs, xray, ...call } = document.aws ?? {};
  assert.deepEqual(call, { region: 'eu-west-1', bucket_name: 'invoices' });
  assert.equal(account_id, '123456789012');
});
