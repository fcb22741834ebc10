import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type SegmentDocumentOptions, toSegmentDocuments } from '../../../src/xray/segment-document.js';
import { SegmentTemplates } from '../../../src/xray/segment-templates.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { LAMBDA_CONTEXT, makeTracing } from './helpers.js';

const { record, under } = makeTracing();

/** What the general translation gives, serialised as the exporter serialises it. */
function general(span: ReadableSpan, options: SegmentDocumentOptions): string | undefined {
  const [document] = toSegmentDocuments(span, options);
  return document === undefined ? undefined : JSON.stringify(document);
}

/** Serialises through the templates and checks the result against the general translation. */
function checked(templates: SegmentTemplates, span: ReadableSpan, options: SegmentDocumentOptions) {
  const json = templates.serialize(span);
  if (json !== undefined) assert.equal(json, general(span, options), `span "${span.name}"`);
  return json;
}

function invocation(invocationId: string, coldStart: boolean): ReadableSpan {
  return record(
    'orders-api',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'faas.trigger': 'other',
        'faas.coldstart': coldStart,
        'faas.invocation_id': invocationId,
        'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live',
        'cloud.account.id': '123456789012',
      },
    },
    LAMBDA_CONTEXT,
  );
}

test('a span met again comes from its template, with its own IDs, times and copied values', () => {
  const options = { indexedAttributes: ['faas.trigger', 'faas.coldstart'] };
  const templates = new SegmentTemplates(options);
  const spans = Array.from({ length: 6 }, (_, i) => invocation(`id-${i}`, false));
  const documents = spans.map((span) => checked(templates, span, options));
  // The first is translated (and its shape noted), the second makes the template, the rest fill it.
  assert.equal(templates.filled, 4);
  for (const [i, json] of documents.entries()) {
    const document = JSON.parse(json as string);
    assert.equal(document.id, spans[i]?.spanContext().spanId);
    assert.equal(document.metadata.default['faas.invocation_id'], `id-${i}`);
  }
});

test('a value the translation reads is never filled in: another value gets its own document', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  const parent = under(invocation('p', false));
  const status = (code: number) =>
    record(
      'GET',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'GET',
          'http.response.status_code': code,
          'server.address': 'api.example.com',
          'url.full': 'https://api.example.com/a',
        },
      },
      parent,
    );
  for (const code of [200, 200, 200, 503, 503, 503, 404, 200]) {
    const json = checked(templates, status(code), options);
    const document = JSON.parse(json ?? general(status(code), options) ?? '{}');
    assert.equal(document.fault, code >= 500);
    assert.equal(document.error, code >= 400 && code < 500);
  }
  assert.ok(templates.filled >= 2);
});

test('spans with events or links, and values a template cannot copy, go the general way', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  const failing = () =>
    record('work', { kind: SpanKind.INTERNAL }, LAMBDA_CONTEXT, (span) => {
      span.recordException(new TypeError('boom'));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    });
  for (let i = 0; i < 4; i++) assert.equal(templates.serialize(failing()), undefined);

  const long = (text: string) => record('work', { attributes: { note: text } }, LAMBDA_CONTEXT);
  for (const text of ['a', 'b', 'c']) checked(templates, long(text), options);
  const filledBefore = templates.filled;
  // Longer than an annotation takes: not a plain copy any more.
  assert.equal(templates.serialize(long('x'.repeat(1001))), undefined);
  assert.equal(templates.filled, filledBefore);
});

test('spans alike but for their attribute keys, order or types each get their own document', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  const variants: Attributes[] = [
    { 'http.route': '/a', 'user.tier': 'gold' },
    { 'user.tier': 'gold', 'http.route': '/a' },
    { 'http.route': '/a', 'user.tier': 3 },
    { 'http.route': '/a', 'user.tier': ['gold'] },
    { 'http.route': '/a' },
    { 'http.route': '/a', 'user.tier': 'gold', 'user.id': 'u-1' },
    {},
  ];
  for (let round = 0; round < 4; round++) {
    for (const attributes of variants) {
      const filled = templates.filled;
      checked(templates, record('GET /a', { kind: SpanKind.SERVER, attributes }, LAMBDA_CONTEXT), options);
      // Met a fourth time, each variant comes from a template of its own (checked against the translation).
      if (round === 3) assert.equal(templates.filled, filled + 1, JSON.stringify(attributes));
    }
  }
});

test('random spans: every document made from a template is the one the translation makes', () => {
  const random = seededRandom(20261202);
  for (const options of [
    {},
    { indexedAttributes: ['faas.trigger', 'http.route', 'tenant.id', 'db.system'] },
    { indexAllAttributes: true },
  ] satisfies SegmentDocumentOptions[]) {
    const templates = new SegmentTemplates(options);
    for (let shape = 0; shape < 60; shape++) {
      const base = randomAttributes(random);
      const kind = pick(random, [
        SpanKind.SERVER,
        SpanKind.CLIENT,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.INTERNAL,
      ]);
      const name = pick(random, ['orders-api', 'GET /orders', 'SELECT', 'send', 'weird "name" ✓']);
      const parent = pick(random, [LAMBDA_CONTEXT, ROOT_CONTEXT, localParent()]);
      const status = pick(random, [
        undefined,
        { code: SpanStatusCode.OK },
        { code: SpanStatusCode.ERROR, message: 'failed' },
      ]);
      for (let repeat = 0; repeat < 6; repeat++) {
        const attributes = repeat < 3 ? base : vary(random, base);
        const span = record(name, { kind, attributes }, parent, (s) => {
          if (status) s.setStatus(status);
        });
        checked(templates, span, options);
      }
    }
    assert.ok(templates.filled > 30, `only ${templates.filled} documents came from templates`);
  }
});

function localParent(): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '5f84c7a0bb5ab5f0b0c1d2e3f4a5b6c7',
    spanId: '0123456789abcdef',
    traceFlags: TraceFlags.SAMPLED,
  });
}

const KEYS = [
  'faas.trigger',
  'faas.invocation_id',
  'faas.coldstart',
  'http.request.method',
  'http.method',
  'http.route',
  'http.response.status_code',
  'http.status_code',
  'url.full',
  'url.path',
  'server.address',
  'net.peer.name',
  'user_agent.original',
  'db.system',
  'db.statement',
  'db.name',
  'db.user',
  'messaging.system',
  'messaging.destination.name',
  'messaging.message.id',
  'rpc.system',
  'rpc.service',
  'rpc.method',
  'aws.region',
  'aws.request_id',
  'aws.s3.bucket',
  'aws.lambda.invoked_arn',
  'peer.service',
  'enduser.id',
  'aws.xray.annotations',
  'aws.xray.metadata.orders',
  'tenant.id',
  'custom.count',
  'custom.flag',
  'otel.resource.service.name',
  'error.type',
];

function randomAttributes(random: () => number): Attributes {
  const attributes: Attributes = {};
  const count = 1 + Math.floor(random() * 10);
  for (let i = 0; i < count; i++) {
    const key = pick(random, KEYS);
    attributes[key] = randomValue(random, key);
  }
  return attributes;
}

/** The same keys, some values changed (to ones of the same type, most of the time). */
function vary(random: () => number, base: Attributes): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(base)) {
    attributes[key] =
      random() < 0.5 ? value : random() < 0.9 ? sameType(random, value, key) : randomValue(random, key);
  }
  return attributes;
}

function sameType(
  random: () => number,
  value: AttributeValue | undefined,
  key: string,
): AttributeValue | undefined {
  if (typeof value === 'string') return pick(random, STRINGS) + String(Math.floor(random() * 5));
  if (typeof value === 'number') return pick(random, NUMBERS);
  if (typeof value === 'boolean') return random() < 0.5;
  return randomValue(random, key);
}

const STRINGS = [
  '',
  'x',
  'GET',
  'postgresql',
  'SELECT * FROM orders WHERE id = $1',
  'aws-api',
  'SQS',
  'aws_sqs',
  'orders',
  'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
  'arn:aws:sns:eu-west-1:123456789012:topic',
  'ümlaut "quoted" \\ ✓',
  '{"a":1}',
  '["tenant.id","faas.trigger"]',
  'arn:aws:lambda:eu-west-1:123456789012:function:billing:live',
  '/orders/{id}',
  'db.example.com',
  '@1.notamarker@',
];
const NUMBERS = [0, -0, 1, 200, 404, 500, 503, 3.25, -7, 1e21, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53];

function randomValue(random: () => number, key: string): AttributeValue | undefined {
  const roll = random();
  if (key === 'aws.xray.annotations' && roll < 0.7) return ['tenant.id', 'custom.count'];
  if (roll < 0.55) return pick(random, STRINGS);
  if (roll < 0.8) return pick(random, NUMBERS);
  if (roll < 0.9) return random() < 0.5;
  if (roll < 0.95) return ['a', 'b'];
  return roll < 0.97 ? 'y'.repeat(1200) : undefined;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

test('a time JSON cannot write as a number goes the general way, never into a template', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  const work = (end?: Date | number) =>
    record('work', { attributes: { 'request.id': 'r' } }, LAMBDA_CONTEXT, (span) => {
      if (end !== undefined) span.end(end);
    });
  for (let i = 0; i < 3; i++) checked(templates, work(), options);
  for (const end of [new Date(Number.NaN), Number.POSITIVE_INFINITY]) {
    const span = work(end);
    const json = checked(templates, span, options);
    if (json !== undefined) assert.doesNotThrow(() => JSON.parse(json));
  }
});

test('a template its own span cannot check is not kept; the next span with those values makes it', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  // The copied value of the span the template would be made from is NaN: nothing to check it with.
  const span = (n: number) => record('work', { attributes: { n, kind: 'fixed' } }, LAMBDA_CONTEXT);
  for (const n of [1, Number.NaN, 7, 8, 9]) checked(templates, span(n), options);
  assert.ok(templates.filled >= 1, 'a checked template was made after all');
});

test('a metadata namespace holding what looks like a marker cannot fool a template', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  // A value as the number markers once were (a fixed text): now they differ from one template to the next.
  const lookalike = JSON.stringify(-1.2345 * 1e-300);
  const span = (n: number) =>
    record('work', { attributes: { n, 'aws.xray.metadata.default': `{"n":${lookalike}}` } }, LAMBDA_CONTEXT);
  // A NaN where the template is made: it cannot be checked on that span, and must not be kept unchecked.
  for (const n of [1, Number.NaN, 7, 8, 9, 10]) checked(templates, span(n), options);
});

test('memory stays bounded: long values and large documents are not templated, shapes are forgotten in bulk', () => {
  const options = {};
  const templates = new SegmentTemplates(options);
  const query = (statement: string, name = 'SELECT') =>
    record(
      'q',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system': 'postgresql', 'db.statement': statement, n: name },
      },
      under(invocation('p', false)),
    );
  const long = `SELECT ${'x'.repeat(3000)}`;
  for (let i = 0; i < 4; i++) checked(templates, query(long), options);
  const before = templates.filled;
  for (let i = 0; i < 4; i++) checked(templates, query(long), options);
  assert.equal(templates.filled, before, 'a 3000-character statement is never templated');

  // More shapes than are kept: the oldest go, and a shape met again later is templated again.
  for (let shape = 0; shape < 100; shape++) {
    checked(templates, record(`name-${shape}`, { attributes: { a: 'b' } }, LAMBDA_CONTEXT), options);
  }
  const recurring = () => record('recurring', { attributes: { a: 'b' } }, LAMBDA_CONTEXT);
  const filled = templates.filled;
  for (let i = 0; i < 4; i++) checked(templates, recurring(), options);
  assert.ok(templates.filled > filled, 'a shape met after the table filled up is still templated');
});

test('secrets in attributes no block reads never reach a document, translated or from a template', () => {
  const options = { indexAllAttributes: false };
  const templates = new SegmentTemplates(options);
  const parent = under(invocation('p', false));
  const call = (secret: string) =>
    record(
      'find',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system': 'mongodb',
          'db.connection_string': `mongodb://app:${secret}@mongo.internal:27017/orders`,
          'db.query.parameter.1': secret,
          'db.postgresql.values': [secret],
          'http.request.header.authorization': [`Bearer ${secret}`],
          'http.request.header.cookie': [`session=${secret}`],
          'http.response.header.set-cookie': [`session=${secret}`],
          'http.request.header.x-request-id': ['req-7'],
        },
      },
      parent,
    );
  // Translated, then the template made, then filled: none of them carries a secret.
  for (const secret of ['hunter2', 'swordfish', 'letmein', 'opensesame']) {
    const json = checked(templates, call(secret), options) ?? general(call(secret), options);
    assert.ok(json !== undefined && !json.includes(secret), json);
    const metadata = JSON.parse(json).metadata.default;
    assert.equal(metadata['db.connection_string'], 'mongodb://mongo.internal:27017/orders');
    assert.deepEqual(metadata['http.request.header.x-request-id'], ['req-7']);
  }
});
