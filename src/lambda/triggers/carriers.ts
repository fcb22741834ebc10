import type { MessageCarrier } from './types.js';
import { isObj, type Obj, obj, str } from './util.js';

/** Message attribute names (lower-cased) that carry trace context; the rest is user data, never read. */
const TRACE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'traceparent',
  'tracestate',
  'baggage',
  'x-amzn-trace-id',
]);

/**
 * OpenTelemetry SDKs keep 128 links per span by default (`OTEL_SPAN_LINK_COUNT_LIMIT`); reading
 * more carriers than that from a 10,000-message batch would be wasted work.
 */
export const DEFAULT_CARRIER_LIMIT = 128;

const EMPTY: readonly MessageCarrier[] = Object.freeze([]);

/** Copies the trace attributes of one message's attribute map; `readValue` reads SQS's or SNS's shape. */
function traceHeaders(
  attributes: unknown,
  readValue: (attribute: unknown) => string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const map = obj(attributes);
  if (map === undefined) return headers;
  for (const name of Object.keys(map)) {
    const lower = name.toLowerCase();
    if (!TRACE_ATTRIBUTES.has(lower)) continue;
    const value = readValue(map[name]);
    if (value !== undefined) headers[lower] = value;
  }
  return headers;
}

const sqsValue = (attribute: unknown): string | undefined => str(obj(attribute)?.stringValue);

const snsValue = (attribute: unknown): string | undefined => {
  const a = obj(attribute);
  return a?.Type === 'String' ? str(a.Value) : undefined;
};

/**
 * An SQS message with an `AWSTraceHeader`: its trace attributes are read only if asked for, when
 * the header names no valid context (a batch can hold 10,000 messages: most are never read).
 */
class XrayFirstCarrier implements MessageCarrier {
  constructor(
    readonly xrayHeader: string,
    private readonly messageAttributes: unknown,
  ) {}

  get headers(): Record<string, string> {
    return traceHeaders(this.messageAttributes, sqsValue);
  }
}

/**
 * The trace-context carriers of an SQS event's messages, one per record in record order, up to
 * `limit`, for the caller to extract span links from.
 *
 * A record's `attributes.AWSTraceHeader` (the system attribute AWS sets from the sender's X-Ray
 * context, kept across SNS → SQS and other hops) comes first; only without it, or when it names no
 * valid context, are the message attributes `traceparent`, `tracestate`, `baggage` and
 * `X-Amzn-Trace-Id` (`stringValue`) read.
 * Never throws; anything that is not an SQS event gives an empty list.
 */
export function sqsMessageCarriers(
  event: unknown,
  limit: number = DEFAULT_CARRIER_LIMIT,
): readonly MessageCarrier[] {
  return carriersPerRecord(event, limit, (record) => {
    // A record that is not SQS's still gets its (empty) place: positions match the records.
    if (record?.eventSource !== 'aws:sqs') return { headers: {} };
    const xrayHeader = str(obj(record.attributes)?.AWSTraceHeader);
    if (xrayHeader === undefined) return { headers: traceHeaders(record.messageAttributes, sqsValue) };
    return new XrayFirstCarrier(xrayHeader, record.messageAttributes);
  });
}

/**
 * The same for an SNS event: SNS delivers one record per invocation, whose trace headers, if the
 * publisher set any, are `String` message attributes (`{ Type, Value }`). SNS records have no
 * `AWSTraceHeader`: with active tracing Lambda itself continues the publisher's X-Ray trace.
 */
export function snsMessageCarriers(
  event: unknown,
  limit: number = DEFAULT_CARRIER_LIMIT,
): readonly MessageCarrier[] {
  return carriersPerRecord(event, limit, (record) => {
    const sns = record?.EventSource === 'aws:sns' ? obj(record.Sns) : undefined;
    return { headers: sns === undefined ? {} : traceHeaders(sns.MessageAttributes, snsValue) };
  });
}

/** One carrier per record of `event.Records`, at most `limit`; never throws (an odd event gives none). */
function carriersPerRecord(
  event: unknown,
  limit: number,
  carrierOf: (record: Obj | undefined) => MessageCarrier,
): readonly MessageCarrier[] {
  try {
    if (!isObj(event) || !Array.isArray(event.Records)) return EMPTY;
    const records: unknown[] = event.Records;
    const count = Math.min(records.length, limit);
    const carriers: MessageCarrier[] = [];
    for (let i = 0; i < count; i++) carriers.push(carrierOf(obj(records[i])));
    return carriers;
  } catch {
    return EMPTY;
  }
}
