/**
 * Decodes an `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`
 * (`opentelemetry/proto/trace/v1/trace.proto`, `common/v1/common.proto`,
 * `resource/v1/resource.proto`), the field numbers the encoder in `src/export/otlp/` writes.
 * Unknown fields are skipped, as protobuf requires.
 */
import { ProtobufReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf-reader.js';

/** An attribute value as OTLP carries it; nested lists and maps kept as arrays and objects. */
export type OtlpValue =
  | string
  | number
  | boolean
  | bigint
  | Uint8Array
  | OtlpValue[]
  | OtlpAttributes
  | undefined;
export type OtlpAttributes = { [key: string]: OtlpValue };

export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: OtlpAttributes;
}

export interface OtlpLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: OtlpAttributes;
}

/** One span with its resource and scope, IDs as lower-case hex ('' when absent). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpAttributes;
  events: OtlpEvent[];
  links: OtlpLink[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** `SpanFlags`: low 8 bits the W3C trace flags, bit 8 "parent remoteness known", bit 9 "remote". */
  flags: number;
  resource: OtlpAttributes;
  scope: { name: string; version: string };
}

/** Decodes a request into its spans, in order. Throws on malformed bytes. */
export function decodeTraceRequest(bytes: Uint8Array): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) readResourceSpans(reader.bytesField(), spans);
    else reader.skip(wire);
  }
  return spans;
}

/** ResourceSpans: resource = 1, scope_spans = 2. */
function readResourceSpans(bytes: Uint8Array, out: OtlpSpan[]): void {
  const reader = new ProtobufReader(bytes);
  let resource: OtlpAttributes = {};
  const scopes: Uint8Array[] = [];
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) resource = readAttributesMessage(reader.bytesField(), 1);
    else if (field === 2 && wire === WIRE_LEN) scopes.push(reader.bytesField());
    else reader.skip(wire);
  }
  // The resource may come after the scopes on the wire: read the scopes once it is known.
  for (const scope of scopes) readScopeSpans(scope, resource, out);
}

/** ScopeSpans: scope = 1 (InstrumentationScope: name = 1, version = 2), spans = 2. */
function readScopeSpans(bytes: Uint8Array, resource: OtlpAttributes, out: OtlpSpan[]): void {
  const reader = new ProtobufReader(bytes);
  const scope = { name: '', version: '' };
  const spans: Uint8Array[] = [];
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const scopeReader = new ProtobufReader(reader.bytesField());
      while (scopeReader.more) {
        const tag = scopeReader.tag();
        if (tag.field === 1 && tag.wire === WIRE_LEN) scope.name = scopeReader.string();
        else if (tag.field === 2 && tag.wire === WIRE_LEN) scope.version = scopeReader.string();
        else scopeReader.skip(tag.wire);
      }
    } else if (field === 2 && wire === WIRE_LEN) spans.push(reader.bytesField());
    else reader.skip(wire);
  }
  for (const span of spans) out.push(readSpan(span, resource, scope));
}

function readSpan(bytes: Uint8Array, resource: OtlpAttributes, scope: OtlpSpan['scope']): OtlpSpan {
  const span: OtlpSpan = {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: '' },
    flags: 0,
    resource,
    scope,
  };
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    switch (`${field}:${wire}`) {
      case `1:${WIRE_LEN}`:
        span.traceId = hex(reader.bytesField());
        break;
      case `2:${WIRE_LEN}`:
        span.spanId = hex(reader.bytesField());
        break;
      case `3:${WIRE_LEN}`:
        span.traceState = reader.string();
        break;
      case `4:${WIRE_LEN}`:
        span.parentSpanId = hex(reader.bytesField());
        break;
      case `5:${WIRE_LEN}`:
        span.name = reader.string();
        break;
      case `6:${WIRE_VARINT}`:
        span.kind = Number(reader.varint());
        break;
      case `7:${WIRE_I64}`:
        span.startTimeUnixNano = reader.fixed64();
        break;
      case `8:${WIRE_I64}`:
        span.endTimeUnixNano = reader.fixed64();
        break;
      case `9:${WIRE_LEN}`:
        readKeyValue(reader.bytesField(), span.attributes);
        break;
      case `11:${WIRE_LEN}`:
        span.events.push(readEvent(reader.bytesField()));
        break;
      case `13:${WIRE_LEN}`:
        span.links.push(readLink(reader.bytesField()));
        break;
      case `15:${WIRE_LEN}`:
        span.status = readStatus(reader.bytesField());
        break;
      case `16:${WIRE_I32}`:
        span.flags = reader.fixed32();
        break;
      default:
        reader.skip(wire);
    }
  }
  return span;
}

/** Span.Event: time_unix_nano = 1, name = 2, attributes = 3. */
function readEvent(bytes: Uint8Array): OtlpEvent {
  const event: OtlpEvent = { timeUnixNano: 0n, name: '', attributes: {} };
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_I64) event.timeUnixNano = reader.fixed64();
    else if (field === 2 && wire === WIRE_LEN) event.name = reader.string();
    else if (field === 3 && wire === WIRE_LEN) readKeyValue(reader.bytesField(), event.attributes);
    else reader.skip(wire);
  }
  return event;
}

/** Span.Link: trace_id = 1, span_id = 2, trace_state = 3, attributes = 4. */
function readLink(bytes: Uint8Array): OtlpLink {
  const link: OtlpLink = { traceId: '', spanId: '', traceState: '', attributes: {} };
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) link.traceId = hex(reader.bytesField());
    else if (field === 2 && wire === WIRE_LEN) link.spanId = hex(reader.bytesField());
    else if (field === 3 && wire === WIRE_LEN) link.traceState = reader.string();
    else if (field === 4 && wire === WIRE_LEN) readKeyValue(reader.bytesField(), link.attributes);
    else reader.skip(wire);
  }
  return link;
}

/** Status: message = 2, code = 3. */
function readStatus(bytes: Uint8Array): OtlpSpan['status'] {
  const status = { code: 0, message: '' };
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 2 && wire === WIRE_LEN) status.message = reader.string();
    else if (field === 3 && wire === WIRE_VARINT) status.code = Number(reader.varint());
    else reader.skip(wire);
  }
  return status;
}

/** A message whose field `fieldNumber` repeats KeyValue (Resource.attributes, KeyValueList.values). */
function readAttributesMessage(bytes: Uint8Array, fieldNumber: number): OtlpAttributes {
  const attributes: OtlpAttributes = {};
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === fieldNumber && wire === WIRE_LEN) readKeyValue(reader.bytesField(), attributes);
    else reader.skip(wire);
  }
  return attributes;
}

/** KeyValue: key = 1, value = 2; added to `into`. */
function readKeyValue(bytes: Uint8Array, into: OtlpAttributes): void {
  let key = '';
  let value: OtlpValue;
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) key = reader.string();
    else if (field === 2 && wire === WIRE_LEN) value = readAnyValue(reader.bytesField());
    else reader.skip(wire);
  }
  into[key] = value;
}

/**
 * AnyValue, a oneof: string = 1, bool = 2, int = 3, double = 4, array = 5, kvlist = 6, bytes = 7.
 * An int64 becomes a number when it is exact as one, else a bigint.
 */
function readAnyValue(bytes: Uint8Array): OtlpValue {
  let value: OtlpValue;
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) value = reader.string();
    else if (field === 2 && wire === WIRE_VARINT) value = reader.varint() !== 0n;
    else if (field === 3 && wire === WIRE_VARINT) value = toNumberIfSafe(reader.int64());
    else if (field === 4 && wire === WIRE_I64) value = reader.double();
    else if (field === 5 && wire === WIRE_LEN) value = readArray(reader.bytesField());
    else if (field === 6 && wire === WIRE_LEN) value = readAttributesMessage(reader.bytesField(), 1);
    else if (field === 7 && wire === WIRE_LEN) value = reader.bytesField().slice();
    else reader.skip(wire);
  }
  return value;
}

/** ArrayValue: values = 1. */
function readArray(bytes: Uint8Array): OtlpValue[] {
  const values: OtlpValue[] = [];
  const reader = new ProtobufReader(bytes);
  while (reader.more) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === WIRE_LEN) values.push(readAnyValue(reader.bytesField()));
    else reader.skip(wire);
  }
  return values;
}

function toNumberIfSafe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
