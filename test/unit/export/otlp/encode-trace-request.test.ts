import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import otlpRoot from 'otlp-proto-root/build/src/generated/root.js';
import { encodeTraceExportRequest } from '../../../../src/export/otlp/encode-trace-request.js';
import { LINKED_SPAN_ID, makeVariedSpans, REMOTE_PARENT_ID, REMOTE_TRACE_ID } from './span-fixtures.js';

interface RequestType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
}
const ExportTraceServiceRequest = (
  otlpRoot as unknown as {
    opentelemetry: { proto: { collector: { trace: { v1: Record<string, RequestType> } } } };
  }
).opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** Decoded with the protobufjs root, int64/fixed64 as decimal strings and bytes as base64. */
function decode(bytes: Uint8Array): Record<string, unknown> {
  return ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(bytes), {
    longs: String,
    bytes: String,
    enums: Number,
    arrays: true,
  });
}

function reference(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(bytes);
  return bytes;
}

// biome-ignore lint/suspicious/noExplicitAny: walks decoded, JSON-like objects
type Obj = Record<string, any>;

const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

describe('encodeTraceExportRequest', () => {
  it('decodes to the same request as the official serializer, and is byte-identical', () => {
    const spans = makeVariedSpans();
    const ours = encodeTraceExportRequest(spans);
    const theirs = reference(spans);
    assert.deepStrictEqual(decode(ours), decode(theirs));
    assert.ok(Buffer.from(theirs).equals(ours), 'bytes differ from the official serializer');
  });

  it('stays byte-identical on later requests, when the resource comes from its cache', () => {
    const spans = makeVariedSpans();
    encodeTraceExportRequest(spans);
    const again = encodeTraceExportRequest([...spans].reverse());
    assert.ok(
      Buffer.from(reference([...spans].reverse())).equals(again),
      'bytes differ on the second request',
    );
    // A resource still waiting for asynchronous attributes is encoded afresh each time.
    const [first] = spans;
    const pending = {
      ...first.resource,
      attributes: { 'service.name': 'before' },
      asyncAttributesPending: true,
    };
    const span = Object.create(first, { resource: { value: pending } }) as ReadableSpan;
    encodeTraceExportRequest([span]);
    pending.attributes = { 'service.name': 'after' };
    assert.ok(encodeTraceExportRequest([span]).includes('after'), 'a pending resource was cached');
  });

  it('writes the fields the SDK gives (spot checks on the decoded request)', () => {
    const decoded = decode(encodeTraceExportRequest(makeVariedSpans())) as Obj;
    assert.equal(decoded.resourceSpans.length, 2);
    const [first, second] = decoded.resourceSpans;
    assert.deepEqual(
      first.scopeSpans.map((s: Obj) => [s.scope.name, s.scope.version, s.schemaUrl]),
      [
        ['scope-b', undefined, undefined],
        ['scope-a', '1.2.3', 'https://opentelemetry.io/schemas/1.30.0'],
      ],
    );
    assert.equal(second.schemaUrl, 'https://opentelemetry.io/schemas/1.28.0');

    const spans: Obj[] = first.scopeSpans.flatMap((s: Obj) => s.spans);
    const server = spans.find((s) => s.name === 'GET /items/{id}');
    assert.ok(server);
    assert.equal(server.traceId, b64(REMOTE_TRACE_ID));
    assert.equal(server.parentSpanId, b64(REMOTE_PARENT_ID));
    assert.equal(server.traceState, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    assert.equal(server.kind, SpanKind.SERVER + 1);
    // sampled | HAS_IS_REMOTE | IS_REMOTE: the parent came from a remote context.
    assert.equal(server.flags, TraceFlags.SAMPLED | 0x100 | 0x200);
    assert.equal(server.startTimeUnixNano, '1700000000123456789');
    assert.equal(server.endTimeUnixNano, '1700000004000000000');
    assert.deepEqual(server.status, { code: SpanStatusCode.ERROR, message: 'boom: ünïcode' });
    assert.equal(server.events.length, 3);
    assert.equal(server.droppedEventsCount, 1);
    assert.equal(server.events[0].name, 'cache miss');
    assert.equal(server.events[0].attributes.length, 2);
    assert.equal(server.events[0].droppedAttributesCount, 2);
    assert.equal(server.events[0].timeUnixNano, '1700000000200000000');
    assert.equal(server.attributes.length, 30);
    assert.equal(server.droppedAttributesCount, 2);
    const attribute = (key: string): Obj => server.attributes.find((kv: Obj) => kv.key === key).value;
    assert.deepEqual(attribute('int.negative'), { intValue: '-1' });
    assert.deepEqual(attribute('int.min64'), { intValue: '-9223372036854775808' });
    assert.deepEqual(attribute('int.beyond-safe'), { intValue: '4611686018427387904' });
    assert.deepEqual(attribute('double.2^63'), { doubleValue: 2 ** 63 });
    assert.deepEqual(attribute('double.negative'), { doubleValue: -0.25 });
    assert.deepEqual(attribute('str.empty'), { stringValue: '' });
    assert.deepEqual(attribute('str.unicode'), { stringValue: 'héllo wörld 日本語 🎉' });
    assert.deepEqual(attribute('arr.bool'), {
      arrayValue: { values: [{ boolValue: true }, { boolValue: false }, { boolValue: true }] },
    });

    const child = spans.find((s) => s.name === 'SELECT items');
    assert.ok(child);
    assert.equal(child.parentSpanId, server.spanId);
    assert.equal(child.flags, TraceFlags.SAMPLED | 0x100, 'local parent: HAS_IS_REMOTE without IS_REMOTE');
    assert.equal(child.links.length, 3);
    assert.equal(child.droppedLinksCount, 1);
    assert.equal(child.links[0].spanId, b64(LINKED_SPAN_ID));
    assert.equal(child.links[0].traceState, 'vendor=opaque');
    assert.equal(child.links[0].flags, 0x301);
    assert.deepEqual(child.links[0].attributes, [
      { key: 'link.reason', value: { stringValue: 'batch' } },
      { key: 'link.index', value: { intValue: '0' } },
    ]);
    assert.equal(child.links[1].flags, 0x101);
    assert.equal(child.links[2].flags, 0x100, 'unsampled, remoteness known: not remote');
    assert.deepEqual(child.status, { code: SpanStatusCode.OK });

    const root = second.scopeSpans[0].spans.find((s: Obj) => s.name === 'root of other');
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.startTimeUnixNano, '0');
    assert.equal(root.endTimeUnixNano, '7258118400000000005');
  });

  it('groups by scope name, version and schema URL, keeping first-seen order', () => {
    const spans = makeVariedSpans();
    // Interleave the scopes: grouping must not depend on the input being sorted.
    const reordered = [...spans].reverse();
    const ours = encodeTraceExportRequest(reordered);
    assert.deepStrictEqual(decode(ours), decode(reference(reordered)));
    assert.ok(Buffer.from(reference(reordered)).equals(ours));
  });

  it('encodes values the SDK types do not produce but AnyValue allows (kvlist, bytes, empty)', () => {
    const resource: Resource = resourceFromAttributes({ 'service.name': 'handmade' });
    const handmade = {
      name: 'handmade',
      kind: undefined as unknown as SpanKind,
      spanContext: () => ({
        traceId: 'ABCDEF0123456789ABCDEF0123456789',
        spanId: '0123456789ABCDEF',
        traceFlags: 0,
      }),
      parentSpanContext: undefined,
      startTime: [1, 2],
      endTime: [3, 4],
      status: { code: SpanStatusCode.UNSET },
      attributes: {
        kv: { a: 1, nested: { b: 'x', c: [true] } },
        bytes: new Uint8Array([0, 1, 254, 255]),
        undef: undefined,
        nul: null,
        big: 123n,
      },
      links: [],
      events: [{ name: '', time: [5, 6] }],
      duration: [2, 2],
      ended: true,
      resource,
      instrumentationScope: { name: '', attributes: { 'scope.attr': 'v' }, droppedAttributesCount: 3 },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    } as unknown as ReadableSpan;
    const ours = encodeTraceExportRequest([handmade]);
    const theirs = reference([handmade]);
    assert.deepStrictEqual(decode(ours), decode(theirs));
    assert.ok(Buffer.from(theirs).equals(ours));
    const span = (decode(ours) as Obj).resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(span.kind, undefined, 'no kind: SPAN_KIND_UNSPECIFIED, not written');
    assert.equal(span.traceId, b64('abcdef0123456789abcdef0123456789'), 'upper-case hex ids are decoded too');
  });

  it('encodes an empty span list as an empty request', () => {
    assert.equal(encodeTraceExportRequest([]).length, 0);
    assert.equal(reference([]).length, 0);
  });

  it('leaves the requested headroom before the message', () => {
    const spans = makeVariedSpans();
    const framed = encodeTraceExportRequest(spans, 5);
    assert.ok(framed.subarray(5).equals(encodeTraceExportRequest(spans)));
  });
});
