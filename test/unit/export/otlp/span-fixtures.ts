/**
 * Real SDK spans covering every field the OTLP encoder writes, for the encoder and exporter tests.
 */

import type { Attributes, HrTime } from '@opentelemetry/api';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export const REMOTE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const REMOTE_PARENT_ID = '00f067aa0ba902b7';
export const LINKED_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const LINKED_SPAN_ID = 'b7ad6b7169203331';

/** Attributes of every type the SDK accepts, with edge values. */
export const EVERY_TYPE: Attributes = {
  'str.plain': 'value',
  'str.empty': '',
  'str.unicode': 'héllo wörld 日本語 🎉',
  'str.lone-surrogate': 'a\ud800b',
  'str.long': 'x'.repeat(300),
  'int.zero': 0,
  'int.small': 42,
  'int.negative': -1,
  'int.min32': -(2 ** 31),
  'int.max-uint32': 2 ** 32 - 1,
  'int.2^32': 2 ** 32,
  'int.negative-large': -(2 ** 40) - 7,
  'int.min-safe': Number.MIN_SAFE_INTEGER,
  'int.max-safe': Number.MAX_SAFE_INTEGER,
  'int.beyond-safe': 2 ** 62,
  'int.min64': -(2 ** 63),
  'double.2^63': 2 ** 63,
  'double.half': 1.5,
  'double.negative': -0.25,
  'double.tiny': 5e-324,
  'double.infinity': Number.POSITIVE_INFINITY,
  'bool.true': true,
  'bool.false': false,
  'arr.str': ['a', '', 'ü'],
  'arr.bool': [true, false, true],
  'arr.int': [1, -2, 3_000_000_000],
  'arr.double': [0.5, -1.25],
  'arr.empty': [],
  'arr.with-null': ['a', null, 'c'],
};

const T0: HrTime = [1_700_000_000, 123_456_789];
const at = (seconds: number, nanos: number): HrTime => [T0[0] + seconds, nanos];

/**
 * Spans from two providers (two resources, one with a schema URL) and three scopes, including a
 * server span with a remote parent and trace state, local children of every kind, events, links,
 * statuses and dropped counts.
 */
export function makeVariedSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'fn-équipe',
      'cloud.provider': 'aws',
      'faas.max_memory': 1024,
      'process.pid': -5,
      'host.arch.list': ['x86_64', 'arm64'],
    }),
    spanLimits: {
      attributeCountLimit: 30,
      eventCountLimit: 3,
      linkCountLimit: 3,
      attributePerEventCountLimit: 2,
    },
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const other = new BasicTracerProvider({
    resource: resourceFromAttributes(
      { 'service.name': 'other' },
      { schemaUrl: 'https://opentelemetry.io/schemas/1.28.0' },
    ),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });

  const tracerA = provider.getTracer('scope-a', '1.2.3', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
  });
  const tracerB = provider.getTracer('scope-b');
  const tracerC = other.getTracer('scope-c', '0.0.1');

  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: REMOTE_TRACE_ID,
    spanId: REMOTE_PARENT_ID,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'),
  });
  const server = tracerA.startSpan('GET /items/{id}', { kind: SpanKind.SERVER, startTime: T0 }, remote);
  server.setAttributes(EVERY_TYPE);
  // One over the limit of 30: two dropped.
  server.setAttributes({ 'extra.1': 1, 'extra.2': 2, 'extra.3': 3 });
  // The event limit (3) drops the oldest event.
  server.addEvent('oldest, dropped by the limit', {}, at(0, 100_000_000));
  server.addEvent(
    'cache miss',
    { key: 'k1', size: 12, hit: false, extra: 'dropped by the limit' },
    at(0, 200_000_000),
  );
  server.addEvent('no attributes', at(0, 300_000_000));
  server.addEvent('unicode ✓', { 'msg.ü': 'ça va' }, at(0, 400_000_000));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'boom: ünïcode' });

  const serverContext = trace.setSpan(remote, server);
  const child = tracerB.startSpan(
    'SELECT items',
    {
      kind: SpanKind.CLIENT,
      startTime: at(0, 100_000_000),
      attributes: { 'db.system': 'postgresql', 'db.rows': -3 },
      links: [
        // The oldest link goes when over the limit (3).
        { context: { traceId: LINKED_TRACE_ID, spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED } },
        {
          context: {
            traceId: LINKED_TRACE_ID,
            spanId: LINKED_SPAN_ID,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: true,
            traceState: new TraceState('vendor=opaque'),
          },
          attributes: { 'link.reason': 'batch', 'link.index': 0 },
        },
        { context: server.spanContext() },
        { context: { traceId: LINKED_TRACE_ID, spanId: 'a'.repeat(16), traceFlags: TraceFlags.NONE } },
      ],
    },
    serverContext,
  );
  child.setStatus({ code: SpanStatusCode.OK });
  child.end(at(0, 150_000_000));

  const kinds = [SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER];
  for (const [i, kind] of kinds.entries()) {
    const span = tracerA.startSpan(`kind-${kind}`, { kind, startTime: at(1, i) }, serverContext);
    span.setStatus({ code: SpanStatusCode.ERROR, message: '' });
    span.end(at(2, 999_999_999));
  }

  const big = tracerB.startSpan('big attributes', { startTime: at(3, 0) }, serverContext);
  big.setAttribute('payload', 'y'.repeat(20_000));
  big.end(at(3, 1));

  // A root span of the other provider, at the epoch and far in the future.
  const root = tracerC.startSpan('root of other', { kind: SpanKind.SERVER, startTime: [0, 0] });
  root.end([7_258_118_400, 5]); // year 2200
  context.with(trace.setSpan(ROOT_CONTEXT, root), () => {
    tracerC.startSpan('implicit parent').end();
  });

  server.end(at(4, 0));
  return memory.getFinishedSpans();
}

/** A plain span with a given name and attributes, for exporter tests. */
export function makeSpans(names: string[], attributes: Attributes = {}): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'lean-exporter-test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('lean-test', '1.0.0');
  for (const name of names) tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }).end();
  return memory.getFinishedSpans();
}
