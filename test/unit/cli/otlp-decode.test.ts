import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { encodeTraceExportRequest } from '../../../src/export/otlp/encode-trace-request.js';
import { decodeTraceRequest } from '../../../src/local/otlp-decode/decode-trace-request.js';
import { toReadableSpan } from '../../../src/local/otlp-decode/readable-span.js';
import { toSegmentDocuments } from '../../../src/xray/segment-document.js';
import { decodeSpans } from '../../helpers/otlp-receiver.js';
import { makeVariedSpans } from '../export/otlp/span-fixtures.js';
import { LAMBDA_CONTEXT, makeTracing } from '../xray/helpers.js';

/** Buffers and Uint8Arrays compare by content. */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
    ),
  );
}

test('the decoder reads what protobufjs reads from the layer encoder', () => {
  const spans = makeVariedSpans();
  const payload = encodeTraceExportRequest(spans);
  const ours = decodeTraceRequest(payload);
  const reference = decodeSpans(payload);
  assert.equal(ours.length, spans.length);
  assert.equal(ours.length, reference.length);
  ours.forEach((span, index) => {
    const expected = reference[index];
    assert.ok(expected);
    assert.deepEqual(
      plain({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId,
        traceState: span.traceState,
        name: span.name,
        kind: span.kind,
        startTimeUnixNano: span.startTimeUnixNano,
        endTimeUnixNano: span.endTimeUnixNano,
        attributes: span.attributes,
        resource: span.resource,
        status: span.status,
        events: span.events,
        links: span.links.map(({ traceId, spanId, attributes }) => ({ traceId, spanId, attributes })),
        scope: span.scope.name,
      }),
      plain(expected),
    );
  });
  assert.ok(
    ours.some((span) => (span.flags & 0x300) === 0x300),
    'a remote parent is flagged as remote',
  );
});

test('a span decoded from OTLP becomes the same X-Ray documents as the SDK span it came from', () => {
  const { record, under } = makeTracing();
  const server = record(
    'GET /orders/{id}',
    {
      kind: 1,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/orders/{id}',
        'http.response.status_code': 500,
        'faas.trigger': 'http',
      },
    },
    LAMBDA_CONTEXT,
    (span) => {
      span.recordException(new TypeError('inventory down'));
      span.setStatus({ code: 2, message: 'inventory down' });
    },
  );
  const query = record(
    'SELECT test',
    {
      kind: 2,
      attributes: {
        'db.system': 'postgresql',
        'db.name': 'test',
        'db.statement': 'SELECT 1',
        'db.user': 'postgres',
      },
    },
    under(server),
  );
  const spans = [...makeVariedSpans(), server, query];
  const decoded = decodeTraceRequest(encodeTraceExportRequest(spans)).map(toReadableSpan);
  const options = { indexedAttributes: ['http.route', 'faas.trigger', 'str.plain'] };
  // Spans are matched by span ID below; exception IDs are random per translation, so they are
  // masked; a lone surrogate cannot survive UTF-8 (the encoder writes U+FFFD, as protobufjs does).
  const comparable = (span: ReadableSpan) =>
    JSON.parse(
      JSON.stringify(toSegmentDocuments(span, options))
        .replace(/"id":"[0-9a-f]{16}"/g, '"id":"-"')
        .replace(/"str\.lone-surrogate":"[^"]*",?/g, ''),
    );
  assert.equal(decoded.length, spans.length);
  for (const original of spans) {
    const span = decoded.find((d) => d.spanContext().spanId === original.spanContext().spanId);
    assert.ok(span, `${original.name} was not decoded`);
    assert.deepEqual(comparable(span), comparable(original), original.name);
  }
});

test('malformed bytes throw rather than yield garbage', () => {
  assert.throws(() => decodeTraceRequest(Uint8Array.from([0x0a, 0x05, 0x01])), /past the end/);
  assert.throws(() => decodeTraceRequest(Uint8Array.from([0x0a])), /end of message/);
  assert.deepEqual(decodeTraceRequest(new Uint8Array(0)), []);
});
