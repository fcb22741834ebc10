/**
 * Encoders for the messages of `opentelemetry/proto/common/v1/common.proto` and
 * `opentelemetry/proto/resource/v1/resource.proto` that the trace request embeds.
 */
import type { HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { ProtobufWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf-writer.js';

/** Attribute-like record: SDK `Attributes`, but nested values (kvlist) are accepted too. */
export type AttributeRecord = Readonly<Record<string, unknown>>;

/** int_value is an int64: integers outside [-2^63, 2^63) fall back to double_value. */
const MIN_INT64 = -(2 ** 63);
const MAX_INT64_EXCLUSIVE = 2 ** 63;
const TWO_POW_32 = 4294967296;

/**
 * Writes each attribute as a `KeyValue` (key = 1, value = 2) under `fieldNumber`, in the record's
 * own key order.
 */
export function writeAttributes(
  writer: ProtobufWriter,
  fieldNumber: number,
  attributes: AttributeRecord,
): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    writer.tag(fieldNumber, WIRE_LEN);
    const mark = writer.begin();
    writeKeyValueBody(writer, key, attributes[key]);
    writer.end(mark);
  }
}

function writeKeyValueBody(writer: ProtobufWriter, key: string, value: unknown): void {
  writer.tag(1, WIRE_LEN); // KeyValue.key
  writer.string(key);
  writer.tag(2, WIRE_LEN); // KeyValue.value (always present, even when the value is unrepresentable)
  const mark = writer.begin();
  writeAnyValueBody(writer, value);
  writer.end(mark);
}

/**
 * Writes the body of an `AnyValue` (a oneof): string_value = 1, bool_value = 2, int_value = 3,
 * double_value = 4, array_value = 5, kvlist_value = 6, bytes_value = 7. JS numbers that are integers
 * become int_value, others double_value (the SDK has no separate int type). `null`, `undefined` and
 * other types leave the AnyValue empty, the proto's representation of "no value".
 */
export function writeAnyValueBody(writer: ProtobufWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      writer.tag(1, WIRE_LEN);
      writer.string(value);
      return;
    case 'boolean':
      writer.tag(2, WIRE_VARINT);
      writer.uint32(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64_EXCLUSIVE) {
        writer.tag(3, WIRE_VARINT);
        writer.int64(value);
      } else {
        writer.tag(4, WIRE_I64);
        writer.double(value);
      }
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null) return;
  if (value instanceof Uint8Array) {
    writer.tag(7, WIRE_LEN);
    writer.bytes(value);
    return;
  }
  if (Array.isArray(value)) {
    writer.tag(5, WIRE_LEN); // ArrayValue { repeated AnyValue values = 1 }
    const arrayMark = writer.begin();
    for (const item of value) {
      writer.tag(1, WIRE_LEN);
      const itemMark = writer.begin();
      writeAnyValueBody(writer, item);
      writer.end(itemMark);
    }
    writer.end(arrayMark);
    return;
  }
  writer.tag(6, WIRE_LEN); // KeyValueList { repeated KeyValue values = 1 }
  const listMark = writer.begin();
  writeAttributes(writer, 1, value as AttributeRecord);
  writer.end(listMark);
}

/**
 * Writes a `Resource` (attributes = 1, dropped_attributes_count = 2) under `fieldNumber`.
 * dropped_attributes_count is written even though it is always 0 (the SDK does not count drops on
 * resources): the official serializer does, and matching it keeps the two byte-identical.
 */
export function writeResource(writer: ProtobufWriter, fieldNumber: number, resource: Resource): void {
  writer.tag(fieldNumber, WIRE_LEN);
  writer.bytes(resourceBody(resource));
}

/**
 * A provider's one Resource goes out with every export: its encoded body (attributes = 1,
 * dropped_attributes_count = 2) is made once, not on every invocation.
 */
const resourceBodies = new WeakMap<Resource, Buffer>();

function resourceBody(resource: Resource): Buffer {
  let body = resourceBodies.get(resource);
  if (body) return body;
  const writer = new ProtobufWriter(512);
  writeAttributes(writer, 1, resource.attributes);
  writer.tag(2, WIRE_VARINT);
  writer.uint32(0);
  body = Buffer.from(writer.finish());
  // Attributes still to come from an asynchronous detector would change the body: not cached.
  if (!resource.asyncAttributesPending) resourceBodies.set(resource, body);
  return body;
}

/** Scope as the SDK hands it, plus the attributes newer SDKs may carry. */
type ScopeWithAttributes = InstrumentationScope & {
  readonly attributes?: AttributeRecord;
  readonly droppedAttributesCount?: number;
};

/**
 * Writes an `InstrumentationScope` (name = 1, version = 2, attributes = 3,
 * dropped_attributes_count = 4) under `fieldNumber`. The scope's schema_url is not part of this
 * message: it is `ScopeSpans.schema_url`, written by the caller.
 */
export function writeInstrumentationScope(
  writer: ProtobufWriter,
  fieldNumber: number,
  scope: InstrumentationScope,
): void {
  const { name, version, attributes, droppedAttributesCount } = scope as ScopeWithAttributes;
  writer.tag(fieldNumber, WIRE_LEN);
  const mark = writer.begin();
  writer.tag(1, WIRE_LEN);
  writer.string(name);
  if (version) {
    writer.tag(2, WIRE_LEN);
    writer.string(version);
  }
  if (attributes) writeAttributes(writer, 3, attributes);
  if (droppedAttributesCount) {
    writer.tag(4, WIRE_VARINT);
    writer.uint32(droppedAttributesCount);
  }
  writer.end(mark);
}

/**
 * Writes an HrTime `[seconds, nanoseconds]` as a fixed64 count of nanoseconds since the epoch
 * (`*_time_unix_nano` fields). `seconds * 1e9` exceeds 2^53 for any current date, so the sum is
 * computed in 32-bit halves: seconds = hiSeconds * 2^16 + loSeconds keeps every product exact.
 */
export function writeHrTimeFixed64(writer: ProtobufWriter, time: HrTime): void {
  const seconds = Math.trunc(time[0]);
  const nanos = Math.trunc(time[1]);
  const hiSeconds = Math.floor(seconds / 0x10000);
  const loSeconds = seconds - hiSeconds * 0x10000;
  const hiPart = hiSeconds * 1e9; // to be shifted left by 16 bits; exact while seconds < ~5.9e11
  const loPart = loSeconds * 1e9 + nanos; // < 6.6e13, exact
  const lowSum = (hiPart % 0x10000) * 0x10000 + (loPart % TWO_POW_32); // < 2^33, exact
  const lo = lowSum % TWO_POW_32;
  const hi = Math.floor(hiPart / 0x10000) + Math.floor(loPart / TWO_POW_32) + Math.floor(lowSum / TWO_POW_32);
  writer.fixed64(lo, hi);
}
