import type { MessageCarrierLike } from './message-context.js';

const TRACE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'traceparent',
  'tracestate',
  'baggage',
  'x-amzn-trace-id',
]);

/**
 * The trace headers an SNS message kept when SNS delivered it to SQS without raw message delivery:
 * the SQS body is then SNS's JSON envelope, and the publisher's message attributes are inside it
 * (`MessageAttributes: { traceparent: { Type: 'String', Value } }`) rather than on the SQS message.
 * Only bodies that look like an envelope are parsed. Undefined when there is none.
 */
export function snsEnvelopeCarrier(body: string | undefined): MessageCarrierLike | undefined {
  if (typeof body !== 'string' || !body.startsWith('{') || !body.includes('"TopicArn"')) return undefined;
  try {
    const envelope = JSON.parse(body) as { Type?: unknown; MessageAttributes?: unknown };
    if (envelope.Type !== 'Notification') return undefined;
    const attributes = envelope.MessageAttributes;
    if (typeof attributes !== 'object' || attributes === null) return undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(
      attributes as Record<string, { Type?: unknown; Value?: unknown }>,
    )) {
      const lower = name.toLowerCase();
      if (TRACE_ATTRIBUTES.has(lower) && value?.Type === 'String' && typeof value.Value === 'string') {
        headers[lower] = value.Value;
      }
    }
    return Object.keys(headers).length > 0 ? { headers } : undefined;
  } catch {
    return undefined;
  }
}
