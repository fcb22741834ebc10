import { context, diag, propagation, type SpanContext, trace } from '@opentelemetry/api';
import { outgoingXrayHeader, passedOnFields } from './xray-header.js';

/**
 * SQS and SNS accept at most 10 message attributes per message; one more fails the whole send
 * (SQS: `InvalidParameterValue`, SNS: `InvalidParameter`).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
 */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/**
 * The classic SQS and SNS message size limit, body and message attributes together (names, types
 * and values; `AWSTraceHeader` does not count). SQS queues may now allow up to 1 MiB, or be set
 * lower; 256 KiB is the size every queue created with the defaults of the past accepted. A message
 * our attributes would push past it gets none: the send must not fail because of tracing.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
 */
export const MAX_MESSAGE_BYTES = 262_144;

/** A `String` message attribute as the SQS and SNS APIs take it. */
export interface StringAttributeValue {
  DataType: 'String';
  StringValue: string;
}

/** The fields of a `SendMessage` input, a `SendMessageBatch` entry or an SNS `Publish` input this reads and sets. */
export interface MessageInput {
  /** SQS's body. */
  MessageBody?: unknown;
  /** SNS's body. */
  Message?: unknown;
  MessageAttributes?: Record<string, unknown>;
  MessageSystemAttributes?: Record<string, unknown>;
}

/**
 * Attribute values this module wrote. A user who sends the same input object twice finds the
 * previous send's values in it: those are ours to replace, while anything else is the user's and
 * is never touched.
 */
const written = new WeakSet<object>();

function stringAttribute(value: string): StringAttributeValue {
  const attribute: StringAttributeValue = { DataType: 'String', StringValue: value };
  written.add(attribute);
  return attribute;
}

function isOurs(value: unknown): boolean {
  return typeof value === 'object' && value !== null && written.has(value);
}

/**
 * Trace headers for message attributes, from the configured propagators, in the order they are
 * worth a slot: `traceparent` before `tracestate` (useless without it) and `baggage`. The X-Ray
 * header is left out: it travels as `AWSTraceHeader`, which costs no attribute slot.
 */
function messageHeaders(spanContext: SpanContext): [string, string][] {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpanContext(context.active(), spanContext), carrier);
  delete carrier['x-amzn-trace-id'];
  const order = ['traceparent', 'tracestate', 'baggage'];
  return Object.entries(carrier).sort(([a], [b]) => rank(order, a) - rank(order, b));
}

function rank(order: readonly string[], name: string): number {
  const at = order.indexOf(name);
  return at === -1 ? order.length : at;
}

/** Where the trace context goes on one message. */
export interface InjectOptions {
  /** SQS only: also set the `AWSTraceHeader` system attribute (SNS has no system attributes). */
  readonly systemAttribute: boolean;
}

/** What an injection did, for diagnostics and tests. */
export interface InjectOutcome {
  readonly awsTraceHeader: 'set' | 'kept-user-value' | 'not-applicable';
  /** The trace attribute names added to the message attributes. */
  readonly added: readonly string[];
  /** The trace attribute names left out for lack of room (the user's attributes come first). */
  readonly skipped: readonly string[];
}

/**
 * Puts the trace context of the span that sends `message` (the SQS `SendMessage` span, or the
 * `SendMessageBatch` span for each entry) on the message:
 *
 * - `MessageSystemAttributes.AWSTraceHeader` in X-Ray format with `Parent` = the sending span,
 *   unless the user set one. It does not count toward the 10-attribute limit, and Lambda hands it
 *   to the consumer as `record.attributes.AWSTraceHeader`.
 * - `traceparent` (then `tracestate`, `baggage`) as message attributes for consumers that do not
 *   read X-Ray headers, only while the message stays within 10 attributes and 256 KiB counting the
 *   user's, and never replacing one the user set.
 *
 * The user's maps are never mutated: the message gets new maps holding the user's entries and
 * ours. Never throws; whatever fails, the message stays one SQS accepts.
 */
export function injectIntoMessage(
  message: MessageInput,
  spanContext: SpanContext,
  options: InjectOptions,
): InjectOutcome {
  const outcome = { awsTraceHeader: 'not-applicable', added: [], skipped: [] } as {
    awsTraceHeader: InjectOutcome['awsTraceHeader'];
    added: string[];
    skipped: string[];
  };
  try {
    if (options.systemAttribute) outcome.awsTraceHeader = setSystemAttribute(message, spanContext);
    const userAttributes = objectOrEmpty(message.MessageAttributes);
    const attributes: Record<string, unknown> = {};
    // Our values from an earlier send of the same input are dropped and written afresh.
    for (const [name, value] of Object.entries(userAttributes)) if (!isOurs(value)) attributes[name] = value;
    let count = Object.keys(attributes).length;
    let bytes = messageBytes(message, attributes);
    const present = new Set(Object.keys(attributes).map((name) => name.toLowerCase()));
    for (const [name, value] of messageHeaders(spanContext)) {
      if (present.has(name)) continue; // The user's own value wins.
      const size = attributeBytes(name, 'String', value);
      if (count >= MAX_MESSAGE_ATTRIBUTES || bytes + size > MAX_MESSAGE_BYTES) {
        outcome.skipped.push(name);
        continue;
      }
      attributes[name] = stringAttribute(value);
      outcome.added.push(name);
      count++;
      bytes += size;
    }
    if (outcome.added.length > 0 || Object.keys(attributes).length !== Object.keys(userAttributes).length) {
      message.MessageAttributes = attributes;
    }
  } catch (error) {
    diag.debug(`could not put the trace context on a message: ${String(error)}`);
  }
  return outcome;
}

/** The size SQS counts for a message: its body and each attribute's name, type and value. */
function messageBytes(message: MessageInput, attributes: Record<string, unknown>): number {
  const body = message.MessageBody ?? message.Message;
  let bytes = typeof body === 'string' ? Buffer.byteLength(body) : 0;
  for (const [name, value] of Object.entries(attributes)) {
    const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const data = v.StringValue ?? v.BinaryValue;
    const dataBytes =
      typeof data === 'string' ? Buffer.byteLength(data) : data instanceof Uint8Array ? data.byteLength : 0;
    bytes += attributeBytes(name, typeof v.DataType === 'string' ? v.DataType : '', '') + dataBytes;
  }
  return bytes;
}

function attributeBytes(name: string, dataType: string, value: string): number {
  return Buffer.byteLength(name) + Buffer.byteLength(dataType) + Buffer.byteLength(value);
}

function setSystemAttribute(
  message: MessageInput,
  spanContext: SpanContext,
): InjectOutcome['awsTraceHeader'] {
  const system = objectOrEmpty(message.MessageSystemAttributes);
  const existing = system.AWSTraceHeader;
  if (existing !== undefined && !isOurs(existing)) return 'kept-user-value';
  // Lambda's Lineage (its recursive-loop count) goes on, as the header the SDK sends would carry it.
  const header = outgoingXrayHeader(spanContext, passedOnFields(context.active()));
  if (header === undefined) return 'not-applicable';
  message.MessageSystemAttributes = { ...system, AWSTraceHeader: stringAttribute(header) };
  return 'set';
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
