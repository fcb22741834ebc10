import type { Attributes, AttributeValue, HrTime, Link, SpanContext, SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtlpAttributes, OtlpSpan, OtlpValue } from './decode-trace-request.js';

const CONTEXT_HAS_IS_REMOTE = 0x100;
const CONTEXT_IS_REMOTE = 0x200;

/**
 * A received OTLP span as the `ReadableSpan` the X-Ray translation (`src/xray/`) reads, so spans
 * that arrived over OTLP become the same segment documents the collector's exporter would make.
 * Only what a translation reads is real; the rest is empty.
 */
export function toReadableSpan(span: OtlpSpan): ReadableSpan {
  const traceFlags = span.flags & 0xff;
  const spanContext: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags };
  // Without remoteness information (older SDKs), a parent is taken as local, as the collector does.
  const parentIsRemote =
    (span.flags & CONTEXT_HAS_IS_REMOTE) !== 0 ? (span.flags & CONTEXT_IS_REMOTE) !== 0 : false;
  const parentSpanContext: SpanContext | undefined =
    span.parentSpanId === ''
      ? undefined
      : { traceId: span.traceId, spanId: span.parentSpanId, traceFlags, isRemote: parentIsRemote };
  const ended = span.endTimeUnixNano > 0n;
  const links: Link[] = span.links.map((link) => ({
    context: { traceId: link.traceId, spanId: link.spanId, traceFlags: 0 },
    attributes: toAttributes(link.attributes),
  }));
  const resourceAttributes = toAttributes(span.resource);
  return {
    name: span.name,
    // The API's SpanKind has no "unspecified": OTLP's 1..5 are its 0..4.
    kind: Math.max(0, span.kind - 1) as SpanKind,
    spanContext: () => spanContext,
    parentSpanContext,
    startTime: toHrTime(span.startTimeUnixNano),
    endTime: toHrTime(span.endTimeUnixNano),
    ended,
    duration: toHrTime(ended ? span.endTimeUnixNano - span.startTimeUnixNano : 0n),
    status: { code: span.status.code, message: span.status.message || undefined },
    attributes: toAttributes(span.attributes),
    links,
    events: span.events.map((event) => ({
      name: event.name,
      time: toHrTime(event.timeUnixNano),
      attributes: toAttributes(event.attributes),
    })),
    resource: { attributes: resourceAttributes } as unknown as ReadableSpan['resource'],
    instrumentationScope: { name: span.scope.name, version: span.scope.version || undefined },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function toHrTime(nanos: bigint): HrTime {
  return [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)];
}

/** OTLP values as span attribute values: what attributes cannot hold (maps, bytes) becomes a string. */
function toAttributes(attributes: OtlpAttributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    const converted = toAttributeValue(value);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

function toAttributeValue(value: OtlpValue): AttributeValue | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) {
    // An empty AnyValue in an array is the SDK's null entry.
    const items = value.map((item) => toAttributeValue(item) ?? null);
    const types = new Set(items.filter((item) => item !== null).map((item) => typeof item));
    if (types.size <= 1 && !types.has('object')) return items as AttributeValue;
    return JSON.stringify(value, jsonSafe);
  }
  if (value !== undefined) return JSON.stringify(value, jsonSafe);
  return undefined;
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
