/**
 * What the invocation span is called and carries, per trigger, from the event alone and then
 * from the handler's result. No I/O, and nothing about one invocation is kept for the next (the
 * only state is a bounded cache of which header and parameter names are sensitive).
 *
 * Runs on every invocation, before and after the user's handler, so it never serialises the event:
 * it reads a few fields, walks the headers and query parameters of HTTP requests, and one field per
 * record of a batch. It never throws: whatever the event (`null`, a string, an array, a Proxy with
 * throwing getters), the worst case is an `other` description.
 *
 * Span kind is SERVER for every trigger, queues and streams included:
 * - The Lambda semantic conventions want a SERVER span for the invocation, whatever the trigger;
 *   their CONSUMER span for SQS is a second span, for the batch, under it. With one span per
 *   invocation, SERVER is the one to keep.
 * - The Collector's `awsxray` exporter turns a SERVER span into a segment named after
 *   `service.name`, but a CONSUMER span with a parent (Lambda's own segment, always there with
 *   active tracing) into a subsegment of Lambda's segment, and one without a parent into a
 *   segment named after the span (`orders process`). So with CONSUMER, the function would be one
 *   service-map node for its HTTP invocations and none, or one per queue, for the others.
 * Messaging attributes still say what was consumed.
 *
 * @module
 */
import { SpanKind } from '@opentelemetry/api';
import { describeCloudWatchLogs, describeEventBridge } from './events.js';
import { describeHttp, describeHttpResult } from './http.js';
import { describeRecords } from './records.js';
import type { InvocationDescription, ResultDescription } from './types.js';
import { isObj, obj } from './util.js';

export { DEFAULT_CARRIER_LIMIT, snsMessageCarriers, sqsMessageCarriers } from './carriers.js';
export { CAPTURED_REQUEST_HEADERS } from './http.js';
export { isSensitiveName, REDACTED, redactRawQuery } from './redact.js';
export type {
  FaasTrigger,
  InvocationDescription,
  InvocationSource,
  MessageCarrier,
  ResultDescription,
} from './types.js';

/** A fresh `other` description: callers may add to the attributes, so none is shared. */
function directInvocation(): InvocationDescription {
  return {
    trigger: 'other',
    source: 'direct',
    spanName: undefined,
    kind: SpanKind.SERVER,
    attributes: { 'faas.trigger': 'other' },
  };
}

function classify(event: unknown): InvocationDescription | undefined {
  if (!isObj(event)) return undefined;
  const records = event.Records;
  if (Array.isArray(records)) return records.length === 0 ? undefined : describeRecords(records);
  const requestContext = obj(event.requestContext);
  if (requestContext !== undefined) return describeHttp(event, requestContext);
  const detailType = event['detail-type'];
  const source = event.source;
  if (typeof detailType === 'string' && typeof source === 'string') {
    return describeEventBridge(event, source, detailType);
  }
  if (event.awslogs !== undefined) return describeCloudWatchLogs(event.awslogs);
  return undefined;
}

/**
 * Says what the span of an invocation triggered by `event` should be: trigger, span name
 * (`undefined`: use the function name), kind, start attributes and, for HTTP requests, the
 * headers to extract a remote parent from. Never throws.
 */
export function describeInvocation(event: unknown): InvocationDescription {
  try {
    return classify(event) ?? directInvocation();
  } catch {
    // A getter that throws, a revoked Proxy: not a Lambda event anyway.
    return directInvocation();
  }
}

/**
 * What the handler's successful `result` adds to the span described by `description`: for HTTP
 * triggers the response status code, and ERROR status for 5xx (see {@link describeHttpResult});
 * nothing for other triggers, whose result is not a protocol response. Errors the handler threw
 * are the caller's to record. Never throws.
 */
export function describeResult(description: InvocationDescription, result: unknown): ResultDescription {
  try {
    if (description.trigger === 'http') return describeHttpResult(description, result);
  } catch {
    // Same as for events: a hostile result object must not break the invocation.
  }
  return { attributes: {} };
}
