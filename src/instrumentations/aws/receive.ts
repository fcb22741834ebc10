import type { Span } from '@opentelemetry/api';
import { linksFromCarriers } from '../../propagation/message-context.js';
import type { AwsCall } from './xray-attributes.js';

/** Links per receive span: `ReceiveMessage` returns at most 10 messages. */
const MAX_RECEIVE_LINKS = 10;
const TRACE_HEADER = 'AWSTraceHeader';

/**
 * Makes a `ReceiveMessage` call return each message's `AWSTraceHeader`, which SQS only returns
 * when asked. (The contrib instrumentation asks for the propagators' message attributes only.)
 * Added to `MessageSystemAttributeNames`, and to the older `AttributeNames` when the caller uses
 * that, never replacing what the caller asked for.
 */
export function requestTraceHeaderOnReceive(call: AwsCall): void {
  if (call.serviceName !== 'SQS' || call.commandName !== 'ReceiveMessage') return;
  const input = call.commandInput as Record<string, unknown> | undefined;
  if (input === undefined) return;
  input.MessageSystemAttributeNames = withName(input.MessageSystemAttributeNames);
  if (Array.isArray(input.AttributeNames)) input.AttributeNames = withName(input.AttributeNames);
}

function withName(names: unknown): unknown {
  if (!Array.isArray(names)) return [TRACE_HEADER];
  if (names.includes(TRACE_HEADER) || names.includes('All')) return names;
  return [...names, TRACE_HEADER];
}

interface ReceivedMessage {
  Attributes?: Record<string, unknown>;
  MessageAttributes?: Record<string, { StringValue?: unknown }>;
}

/**
 * Links the receive span to the sender of each received message that carries `AWSTraceHeader`
 * and no trace message attribute (for those, the contrib instrumentation adds the link itself).
 */
export function linkReceivedMessages(
  span: Span,
  response: { data?: unknown; request: { serviceName: string; commandName: string } },
): void {
  if (response.request.serviceName !== 'SQS' || response.request.commandName !== 'ReceiveMessage') return;
  const messages = (response.data as { Messages?: unknown } | undefined)?.Messages;
  if (!Array.isArray(messages)) return;
  const carriers = [];
  for (const message of messages as ReceivedMessage[]) {
    const header = message?.Attributes?.[TRACE_HEADER];
    if (typeof header !== 'string' || hasTraceAttribute(message)) continue;
    carriers.push({ xrayHeader: header, headers: {} });
  }
  for (const link of linksFromCarriers(carriers, MAX_RECEIVE_LINKS)) span.addLink(link);
}

function hasTraceAttribute(message: ReceivedMessage): boolean {
  const attributes = message.MessageAttributes;
  if (attributes === undefined) return false;
  return Object.keys(attributes).some(
    (name) => name === 'traceparent' || name.toLowerCase() === 'x-amzn-trace-id',
  );
}
