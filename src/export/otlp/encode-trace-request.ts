/**
 * Encodes SDK spans as an `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`
 * (`opentelemetry/proto/collector/trace/v1/trace_service.proto` and `trace/v1/trace.proto`).
 *
 * Which optional fields are written, and in which order, follows the official serializer of
 * `@opentelemetry/otlp-transformer` (fields in field-number order, zero counts written, empty
 * strings skipped where it skips them), so both produce the same bytes for the same spans.
 */
import type { Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import {
  writeAttributes,
  writeHrTimeFixed64,
  writeInstrumentationScope,
  writeResource,
} from './encode-common.js';
import { ProtobufWriter, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf-writer.js';

/**
 * `Span.flags` / `Link.flags` bits 8 and 9 (`SpanFlags` in trace.proto): bit 8 says whether the
 * parent's (or linked context's) remoteness is known, bit 9 that it is remote. The low 8 bits are
 * the W3C trace flags (sampled = 0x01).
 */
const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200;

/** A first guess at the encoded size per span, to rarely grow the buffer. */
const BYTES_PER_SPAN_GUESS = 512;

/**
 * Encodes `spans` as an ExportTraceServiceRequest: one `ResourceSpans` per resource (by identity,
 * as the SDK shares one Resource per provider), one `ScopeSpans` per instrumentation scope (name,
 * version, schema URL) within it, spans in their input order.
 *
 * @param headroom bytes left free before the message, for the caller's framing.
 * @returns the message preceded by `headroom` unwritten bytes.
 */
export function encodeTraceExportRequest(spans: readonly ReadableSpan[], headroom = 0): Buffer {
  const writer = new ProtobufWriter(headroom + 256 + spans.length * BYTES_PER_SPAN_GUESS, headroom);
  for (const [resource, scopes] of groupSpans(spans)) {
    writer.tag(1, WIRE_LEN); // ExportTraceServiceRequest.resource_spans
    writeResourceSpans(writer, resource, scopes);
  }
  return writer.finish();
}

type ScopeGroups = Map<string, ReadableSpan[]>;

function groupSpans(spans: readonly ReadableSpan[]): Map<Resource, ScopeGroups> {
  const byResource = new Map<Resource, ScopeGroups>();
  for (const span of spans) {
    let byScope = byResource.get(span.resource);
    if (!byScope) {
      byScope = new Map();
      byResource.set(span.resource, byScope);
    }
    const key = scopeKey(span.instrumentationScope);
    const group = byScope.get(key);
    if (group) group.push(span);
    else byScope.set(key, [span]);
  }
  return byResource;
}

function scopeKey(scope: InstrumentationScope): string {
  return `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}`;
}

/** ResourceSpans: resource = 1, scope_spans = 2, schema_url = 3. */
function writeResourceSpans(writer: ProtobufWriter, resource: Resource, scopes: ScopeGroups): void {
  const mark = writer.begin();
  writeResource(writer, 1, resource);
  for (const spans of scopes.values()) {
    writer.tag(2, WIRE_LEN);
    writeScopeSpans(writer, spans);
  }
  if (resource.schemaUrl) {
    writer.tag(3, WIRE_LEN);
    writer.string(resource.schemaUrl);
  }
  writer.end(mark);
}

/** ScopeSpans: scope = 1, spans = 2, schema_url = 3. */
function writeScopeSpans(writer: ProtobufWriter, spans: readonly ReadableSpan[]): void {
  const mark = writer.begin();
  const scope = spans[0].instrumentationScope;
  writeInstrumentationScope(writer, 1, scope);
  for (const span of spans) {
    writer.tag(2, WIRE_LEN);
    writeSpan(writer, span);
  }
  if (scope.schemaUrl) {
    writer.tag(3, WIRE_LEN);
    writer.string(scope.schemaUrl);
  }
  writer.end(mark);
}

/** trace_id = 1, span_id = 2, trace_state = 3: the same field numbers in Span and Span.Link. */
function writeContextIds(writer: ProtobufWriter, context: SpanContext): void {
  writer.tag(1, WIRE_LEN);
  writer.hexBytes(context.traceId);
  writer.tag(2, WIRE_LEN);
  writer.hexBytes(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    writer.tag(3, WIRE_LEN);
    writer.string(traceState);
  }
}

/**
 * Span: trace_id = 1, span_id = 2, trace_state = 3, parent_span_id = 4, name = 5, kind = 6,
 * start_time_unix_nano = 7, end_time_unix_nano = 8, attributes = 9, dropped_attributes_count = 10,
 * events = 11, dropped_events_count = 12, links = 13, dropped_links_count = 14, status = 15,
 * flags = 16.
 */
function writeSpan(writer: ProtobufWriter, span: ReadableSpan): void {
  const mark = writer.begin();
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  writeContextIds(writer, context);
  if (parent?.spanId) {
    writer.tag(4, WIRE_LEN);
    writer.hexBytes(parent.spanId);
  }
  writer.tag(5, WIRE_LEN);
  writer.string(span.name);
  // The API's SpanKind starts at INTERNAL = 0; the proto reserves 0 for SPAN_KIND_UNSPECIFIED.
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    writer.tag(6, WIRE_VARINT);
    writer.uint32(kind);
  }
  writer.tag(7, WIRE_I64);
  writeHrTimeFixed64(writer, span.startTime);
  writer.tag(8, WIRE_I64);
  writeHrTimeFixed64(writer, span.endTime);
  writeAttributes(writer, 9, span.attributes);
  writer.tag(10, WIRE_VARINT);
  writer.uint32(span.droppedAttributesCount);
  for (const event of span.events) {
    writer.tag(11, WIRE_LEN);
    writeEvent(writer, event);
  }
  writer.tag(12, WIRE_VARINT);
  writer.uint32(span.droppedEventsCount);
  for (const link of span.links) {
    writer.tag(13, WIRE_LEN);
    writeLink(writer, link);
  }
  writer.tag(14, WIRE_VARINT);
  writer.uint32(span.droppedLinksCount);
  writer.tag(15, WIRE_LEN);
  writeStatus(writer, span.status.code, span.status.message);
  writer.tag(16, WIRE_I32);
  writer.fixed32(spanFlags(context.traceFlags, parent?.isRemote));
  writer.end(mark);
}

/** Span.Event: time_unix_nano = 1, name = 2, attributes = 3, dropped_attributes_count = 4. */
function writeEvent(writer: ProtobufWriter, event: TimedEvent): void {
  const mark = writer.begin();
  writer.tag(1, WIRE_I64);
  writeHrTimeFixed64(writer, event.time);
  writer.tag(2, WIRE_LEN);
  writer.string(event.name);
  if (event.attributes) writeAttributes(writer, 3, event.attributes);
  writer.tag(4, WIRE_VARINT);
  writer.uint32(event.droppedAttributesCount ?? 0);
  writer.end(mark);
}

/**
 * Span.Link: trace_id = 1, span_id = 2, trace_state = 3, attributes = 4,
 * dropped_attributes_count = 5, flags = 6.
 */
function writeLink(writer: ProtobufWriter, link: Link): void {
  const mark = writer.begin();
  const context = link.context;
  writeContextIds(writer, context);
  if (link.attributes) writeAttributes(writer, 4, link.attributes);
  writer.tag(5, WIRE_VARINT);
  writer.uint32(link.droppedAttributesCount ?? 0);
  writer.tag(6, WIRE_I32);
  writer.fixed32(spanFlags(context.traceFlags, context.isRemote));
  writer.end(mark);
}

/**
 * Status: message = 2, code = 3 (field 1 is reserved). The API's SpanStatusCode values (UNSET 0,
 * OK 1, ERROR 2) are the proto's StatusCode values.
 */
function writeStatus(writer: ProtobufWriter, code: number, message: string | undefined): void {
  const mark = writer.begin();
  if (message) {
    writer.tag(2, WIRE_LEN);
    writer.string(message);
  }
  writer.tag(3, WIRE_VARINT);
  writer.uint32(code);
  writer.end(mark);
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  const flags = (traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE;
  return isRemote ? flags | SPAN_FLAGS_CONTEXT_IS_REMOTE : flags;
}
