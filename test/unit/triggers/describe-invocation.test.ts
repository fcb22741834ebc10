import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Attributes, SpanKind } from '@opentelemetry/api';
import {
  describeInvocation,
  type FaasTrigger,
  type InvocationSource,
} from '../../../src/lambda/triggers/index.js';
import { fixtureNames, loadEvent } from './fixtures.js';

interface Expected {
  trigger: FaasTrigger;
  source: InvocationSource;
  spanName: string | undefined;
  /** A subset: every key listed must be there with this value. */
  attributes: Attributes;
  /** Keys that must not be there. */
  absent?: string[];
}

const EXPECTED: Record<string, Expected> = {
  'apigw-rest-orders.json': {
    trigger: 'http',
    source: 'api-gateway-rest',
    spanName: 'GET /orders/{id}',
    attributes: {
      'faas.trigger': 'http',
      'http.request.method': 'GET',
      'http.method': 'GET',
      'http.route': '/orders/{id}',
      'url.path': '/prod/orders/123',
      'url.query': 'token=REDACTED&page=2',
      'http.target': '/prod/orders/123?token=REDACTED&page=2',
      'url.scheme': 'https',
      'http.scheme': 'https',
      'server.address': 'abc123defg.execute-api.us-east-1.amazonaws.com',
      'net.host.name': 'abc123defg.execute-api.us-east-1.amazonaws.com',
      'server.port': 443,
      'url.full':
        'https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/orders/123?token=REDACTED&page=2',
      'http.url':
        'https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/orders/123?token=REDACTED&page=2',
      'user_agent.original': 'curl/8.4.0',
      'http.user_agent': 'curl/8.4.0',
      'client.address': '52.255.255.12',
      'http.client_ip': '52.255.255.12',
      'network.protocol.version': '1.1',
      'http.request.header.content-type': ['application/json'],
      'http.request.header.x-forwarded-proto': ['https'],
    },
    absent: [
      'http.request.header.user-agent',
      'http.request.header.authorization',
      'http.request.header.accept',
    ],
  },
  'apigw-rest-proxy-any.json': {
    trigger: 'http',
    source: 'api-gateway-rest',
    // The event carries the request's method, never the API's `ANY`.
    spanName: 'POST /{proxy+}',
    attributes: {
      'http.request.method': 'POST',
      'http.route': '/{proxy+}',
      'url.path': '/prod/shop/cart/items',
      'http.target': '/prod/shop/cart/items',
      'http.request.header.content-length': ['27'],
      'client.address': '203.0.113.7',
    },
    absent: ['url.query'],
  },
  'apigw-http-v2-orders.json': {
    trigger: 'http',
    source: 'api-gateway-http',
    spanName: 'GET /orders/{id}',
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/orders/{id}',
      'url.path': '/orders/123',
      'url.query': 'token=REDACTED&page=2',
      'url.scheme': 'https',
      'server.address': 'r3pmxmplak.execute-api.us-east-2.amazonaws.com',
      'client.address': '205.255.255.176',
      'http.client_ip': '205.255.255.176',
      'network.protocol.version': '1.1',
      'url.full': 'https://r3pmxmplak.execute-api.us-east-2.amazonaws.com/orders/123?token=REDACTED&page=2',
    },
  },
  'apigw-http-v2-default.json': {
    trigger: 'http',
    source: 'api-gateway-http',
    // `$default` names no template: the method alone, never the raw path with its IDs.
    spanName: 'PUT',
    attributes: { 'http.request.method': 'PUT', 'url.path': '/users/42/profile' },
    absent: ['http.route', 'url.query'],
  },
  'apigw-http-v2-any-proxy.json': {
    trigger: 'http',
    source: 'api-gateway-http',
    spanName: 'GET /{proxy+}',
    attributes: {
      'http.route': '/{proxy+}',
      'url.query': 'X-Amz-Signature=REDACTED&format=csv&apiKey=REDACTED',
      'network.protocol.version': '2',
      'server.address': 'api.example.com',
    },
  },
  'alb.json': {
    trigger: 'http',
    source: 'alb',
    spanName: 'GET',
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/lambda',
      'url.query': 'query=1234ABCD&access_token=REDACTED',
      'url.scheme': 'http',
      'server.address': 'lambda-alb-123578498.us-east-2.elb.amazonaws.com',
      'server.port': 80,
      // Port 80 is http's default: not repeated in the URL.
      'url.full':
        'http://lambda-alb-123578498.us-east-2.elb.amazonaws.com/lambda?query=1234ABCD&access_token=REDACTED',
      'client.address': '72.12.164.125',
      'http.request.header.x-forwarded-proto': ['http'],
    },
    absent: ['http.route', 'network.protocol.version'],
  },
  'alb-multi-value.json': {
    trigger: 'http',
    source: 'alb',
    spanName: 'POST',
    attributes: {
      'http.request.method': 'POST',
      // ALB passes the query still encoded: kept as sent, repeated keys included.
      'url.query': 'signature=REDACTED&page=2&page=3&q=red%20shoes',
      'url.scheme': 'https',
      'server.port': 443,
      'client.address': '198.51.100.10',
      'http.request.header.content-type': ['application/json'],
      'http.request.header.content-length': ['15'],
    },
    absent: ['http.route', 'http.request.header.x-custom'],
  },
  'function-url.json': {
    trigger: 'http',
    source: 'function-url',
    spanName: 'POST',
    attributes: {
      'http.request.method': 'POST',
      'url.path': '/my/path',
      'url.query': 'parameter1=value1&parameter1=value2&parameter2=value',
      'server.address': 'a1b2c3d4e5f6g7h8i9j0kl.lambda-url.us-west-2.on.aws',
      'client.address': '123.123.123.123',
      'user_agent.original': 'agent',
    },
    absent: ['http.route'],
  },
  'sqs-single.json': {
    trigger: 'pubsub',
    source: 'sqs',
    spanName: 'my-queue process',
    attributes: {
      'faas.trigger': 'pubsub',
      'messaging.system': 'aws_sqs',
      'messaging.system.name': 'aws.sqs',
      'messaging.operation.type': 'process',
      'messaging.operation': 'process',
      'messaging.destination.name': 'my-queue',
      'messaging.message.id': '059f36b4-87a3-44ab-83d2-661975830a7d',
      'cloud.region': 'us-east-2',
      'aws.queue_url': 'https://sqs.us-east-2.amazonaws.com/123456789012/my-queue',
      'aws.sqs.queue.url': 'https://sqs.us-east-2.amazonaws.com/123456789012/my-queue',
    },
    // Semantic conventions: no batch size on a single message.
    absent: ['messaging.batch.message_count'],
  },
  'sqs-batch.json': {
    trigger: 'pubsub',
    source: 'sqs',
    spanName: 'orders process',
    attributes: {
      'messaging.system': 'aws_sqs',
      'messaging.destination.name': 'orders',
      'messaging.batch.message_count': 4,
      'aws.queue_url': 'https://sqs.us-east-2.amazonaws.com/123456789012/orders',
    },
    absent: ['messaging.message.id'],
  },
  'sns.json': {
    trigger: 'pubsub',
    source: 'sns',
    spanName: 'sns-lambda process',
    attributes: {
      'messaging.system': 'aws.sns',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'sns-lambda',
      'messaging.message.id': '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      'aws.sns.topic.arn': 'arn:aws:sns:us-east-1:123456789012:sns-lambda',
      'cloud.region': 'us-east-1',
    },
  },
  's3.json': {
    trigger: 'datasource',
    source: 's3',
    spanName: 'amzn-s3-demo-bucket insert',
    attributes: {
      'faas.trigger': 'datasource',
      'faas.document.collection': 'amzn-s3-demo-bucket',
      'faas.document.operation': 'insert',
      // Decoded from the event's form encoding.
      'faas.document.name': 'uploads/my photo(1).jpg',
      'faas.document.time': '2019-09-03T19:37:27.192Z',
    },
  },
  'dynamodb-stream.json': {
    trigger: 'datasource',
    source: 'dynamodb-stream',
    spanName: 'ExampleTableWithStream process',
    attributes: {
      'faas.document.collection': 'ExampleTableWithStream',
      'aws.dynamodb.table_names': ['ExampleTableWithStream'],
      'cloud.region': 'us-west-2',
    },
    // INSERT, MODIFY and REMOVE in one batch: no single operation.
    absent: ['faas.document.operation'],
  },
  'kinesis.json': {
    trigger: 'datasource',
    source: 'kinesis',
    spanName: 'lambda-stream process',
    attributes: {
      'faas.document.collection': 'lambda-stream',
      'faas.document.operation': 'insert',
      'aws.kinesis.stream_name': 'lambda-stream',
    },
  },
  'cloudwatch-logs.json': {
    trigger: 'datasource',
    source: 'cloudwatch-logs',
    spanName: undefined,
    attributes: { 'faas.trigger': 'datasource' },
  },
  'eventbridge-schedule.json': {
    trigger: 'timer',
    source: 'eventbridge-schedule',
    spanName: 'my-scheduled-rule',
    attributes: { 'faas.trigger': 'timer', 'faas.time': '2015-10-08T16:53:06Z' },
  },
  'eventbridge-custom.json': {
    trigger: 'pubsub',
    source: 'eventbridge',
    spanName: 'com.example.orders OrderPlaced',
    attributes: {
      'cloudevents.event_source': 'com.example.orders',
      'cloudevents.event_type': 'OrderPlaced',
      'cloudevents.event_id': '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    },
  },
  'direct.json': {
    trigger: 'other',
    source: 'direct',
    spanName: undefined,
    attributes: { 'faas.trigger': 'other' },
  },
};

describe('describeInvocation on the AWS event fixtures', () => {
  it('has an expectation for every fixture', () => {
    assert.deepEqual(fixtureNames(), Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, () => {
      const d = describeInvocation(loadEvent(name));
      assert.equal(d.trigger, expected.trigger);
      assert.equal(d.source, expected.source);
      assert.equal(d.spanName, expected.spanName);
      assert.equal(d.kind, SpanKind.SERVER);
      assert.equal(d.attributes['faas.trigger'], expected.trigger);
      for (const [key, value] of Object.entries(expected.attributes)) {
        assert.deepEqual(d.attributes[key], value, key);
      }
      for (const key of expected.absent ?? []) assert.equal(key in d.attributes, false, `${key} is set`);
      if (expected.trigger === 'http') assert.ok(d.incomingHeaders, 'HTTP triggers expose their headers');
      else assert.equal(d.incomingHeaders, undefined);
    });
  }

  it('never lets a credential, cookie, body or identity into the description', () => {
    for (const name of fixtureNames()) {
      const serialized = JSON.stringify(describeInvocation(loadEvent(name)));
      // Every secret in the fixtures is marked SECRET: Authorization, Cookie, X-Api-Key,
      // query tokens and signatures, bodies, JWT claims, IAM access keys.
      assert.equal(serialized.includes('SECRET'), false, `${name}: ${serialized}`);
      assert.equal(/authorization|cookie|x-api-key/i.test(serialized), false, name);
    }
  });

  it('keeps the propagation headers, lower-cased', () => {
    const rest = describeInvocation(loadEvent('apigw-rest-orders.json'));
    assert.equal(
      rest.incomingHeaders?.['x-amzn-trace-id'],
      'Root=1-5e66d96f-7491f09xmpl79d18acf3d050;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    assert.equal(
      rest.incomingHeaders?.traceparent,
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
    assert.equal(rest.incomingHeaders?.Host, undefined);
    // ALB in multi-value mode: only multiValueHeaders, joined.
    const alb = describeInvocation(loadEvent('alb-multi-value.json'));
    assert.equal(alb.incomingHeaders?.['x-amzn-trace-id'], 'Root=1-5c536348-3d683b8b04734faae651f476');
    assert.equal(alb.incomingHeaders?.['x-custom'], 'one,two');
  });

  it('recognises a function URL without routeKey', () => {
    const event = loadEvent('function-url.json');
    delete event.routeKey;
    delete (event.requestContext as Record<string, unknown>).routeKey;
    const d = describeInvocation(event);
    assert.equal(d.source, 'function-url');
    assert.equal(d.spanName, 'POST');
    assert.equal(d.payloadFormat, '2.0');
  });

  it('reads an HTTP API payload 1.0 route from routeKey', () => {
    const event = loadEvent('apigw-rest-orders.json');
    event.version = '1.0';
    event.resource = '/orders/123';
    (event.requestContext as Record<string, unknown>).routeKey = 'GET /orders/{id}';
    const d = describeInvocation(event);
    assert.equal(d.source, 'api-gateway-http');
    assert.equal(d.spanName, 'GET /orders/{id}');
    assert.equal(d.payloadFormat, '1.0');
  });

  it('folds unknown methods into _OTHER', () => {
    const event = loadEvent('apigw-rest-orders.json');
    event.httpMethod = 'PURGE';
    const d = describeInvocation(event);
    assert.equal(d.spanName, 'HTTP /orders/{id}');
    assert.equal(d.attributes['http.request.method'], '_OTHER');
    assert.equal(d.attributes['http.request.method_original'], 'PURGE');
  });

  it('names a batch from several queues multiple_sources', () => {
    const event = loadEvent('sqs-batch.json');
    const records = event.Records as Record<string, unknown>[];
    (records[2] as Record<string, unknown>).eventSourceARN = 'arn:aws:sqs:us-east-2:123456789012:other';
    const d = describeInvocation(event);
    assert.equal(d.spanName, 'multiple_sources process');
    assert.equal('messaging.destination.name' in d.attributes, false);
    assert.equal('aws.queue_url' in d.attributes, false);
  });

  it('gives a DynamoDB batch an operation only when all records agree', () => {
    const event = loadEvent('dynamodb-stream.json');
    event.Records = [(event.Records as unknown[])[0], (event.Records as unknown[])[0]];
    assert.equal(describeInvocation(event).attributes['faas.document.operation'], 'insert');
  });

  it('maps S3 removals to delete', () => {
    const event = loadEvent('s3.json');
    (event.Records as Record<string, unknown>[])[0].eventName = 'ObjectRemoved:Delete';
    const d = describeInvocation(event);
    assert.equal(d.attributes['faas.document.operation'], 'delete');
    assert.equal(d.spanName, 'amzn-s3-demo-bucket delete');
  });

  it('builds China-region queue URLs', () => {
    const event = loadEvent('sqs-single.json');
    (event.Records as Record<string, unknown>[])[0].eventSourceARN =
      'arn:aws-cn:sqs:cn-north-1:123456789012:q';
    assert.equal(
      describeInvocation(event).attributes['aws.queue_url'],
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
    );
  });

  it('returns a fresh attributes object each time', () => {
    const a = describeInvocation({ orderId: 1 });
    a.attributes.extra = 1;
    assert.equal('extra' in describeInvocation({ orderId: 1 }).attributes, false);
  });
});

describe('describeInvocation on odd input', () => {
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error('boom');
      },
      has() {
        throw new Error('boom');
      },
      ownKeys() {
        throw new Error('boom');
      },
    },
  );
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  const getterRecords = {
    get Records() {
      throw new Error('boom');
    },
  };
  const headersThatThrow = {
    httpMethod: 'GET',
    requestContext: {},
    get headers() {
      throw new Error('boom');
    },
  };

  const cases: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'str'],
    ['a number', 42],
    ['an array', []],
    ['an array of records', [{ eventSource: 'aws:sqs' }]],
    ['Records that is a string', { Records: 'x' }],
    ['empty Records', { Records: [] }],
    ['Records of null', { Records: [null] }],
    ['Records of an unknown source', { Records: [{ eventSource: 'aws:kafka' }] }],
    ['a null requestContext', { requestContext: null }],
    ['an empty requestContext', { requestContext: {} }],
    [
      'a WebSocket event',
      { requestContext: { eventType: 'CONNECT', routeKey: '$connect', connectionId: 'x' } },
    ],
    ['detail-type that is not a string', { 'detail-type': 1, source: 'x' }],
    ['awslogs without data', { awslogs: {} }],
    ['a Proxy that throws', throwing],
    ['a revoked Proxy', revocable.proxy],
    ['a getter that throws', getterRecords],
    ['headers that throw', headersThatThrow],
  ];
  for (const [label, event] of cases) {
    it(`${label} gives other`, () => {
      const d = describeInvocation(event);
      assert.equal(d.trigger, 'other');
      assert.equal(d.source, 'direct');
      assert.equal(d.spanName, undefined);
      assert.equal(d.kind, SpanKind.SERVER);
      assert.deepEqual(d.attributes, { 'faas.trigger': 'other' });
    });
  }

  it('tolerates wrong types inside a recognised event', () => {
    const d = describeInvocation({
      httpMethod: 7,
      path: ['x'],
      headers: { Host: 1, 'User-Agent': null },
      multiValueHeaders: { Accept: 'not-an-array' },
      queryStringParameters: { a: 1 },
      requestContext: { identity: 'x', path: 3 },
    });
    assert.equal(d.trigger, 'other');
    const v2 = describeInvocation({
      version: '2.0',
      requestContext: { http: { method: 3 } },
      rawQueryString: 5,
    });
    assert.equal(v2.trigger, 'http');
    assert.equal(v2.spanName, 'HTTP');
    assert.deepEqual(v2.incomingHeaders, {});
  });

  it('reads a 10,000-record batch and a 100,000-key object quickly', () => {
    const record = loadEvent('sqs-single.json').Records as unknown[];
    const batch = { Records: Array.from({ length: 10_000 }, () => record[0]) };
    const wide: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) wide[`k${i}`] = i;
    const start = performance.now();
    assert.equal(describeInvocation(batch).attributes['messaging.batch.message_count'], 10_000);
    assert.equal(describeInvocation(wide).trigger, 'other');
    assert.ok(performance.now() - start < 200, 'took too long');
  });
});
