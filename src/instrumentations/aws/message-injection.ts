import { context, diag, type SpanContext } from '@opentelemetry/api';
import { injectIntoMessage, type MessageInput } from '../../propagation/message-attributes.js';
import { outgoingXrayHeader, passedOnFields } from '../../propagation/xray-header.js';
import type { AwsCall } from './xray-attributes.js';

type Input = Record<string, unknown>;

/**
 * Puts the sending span's context on every message an SQS, SNS or EventBridge call sends, before
 * the SDK serialises the request. The span is the producer: a consumer that continues or links
 * this context joins the trace right under the send.
 *
 * - SQS `SendMessage`, `SendMessageBatch`: `AWSTraceHeader` system attribute, plus W3C headers as
 *   message attributes where there is room (see {@link injectIntoMessage}).
 * - SNS `Publish`, `PublishBatch`: W3C headers as message attributes where there is room. (SNS has
 *   no system attribute; with active tracing AWS passes the request's `X-Amzn-Trace-Id` on.)
 * - EventBridge `PutEvents`: each entry's `TraceHeader`, unless the user set it.
 *
 * Entries are copied before they are changed, so the user's entry objects stay as written.
 */
export function injectIntoOutgoingMessages(call: AwsCall, spanContext: SpanContext): void {
  const input = call.commandInput;
  if (input === undefined || input === null) return;
  switch (`${call.serviceName}.${call.commandName}`) {
    case 'SQS.SendMessage':
      report(call, injectIntoMessage(input as MessageInput, spanContext, { systemAttribute: true }).skipped);
      break;
    case 'SQS.SendMessageBatch':
      forEachEntry(input, 'Entries', (entry) =>
        report(
          call,
          injectIntoMessage(entry as MessageInput, spanContext, { systemAttribute: true }).skipped,
        ),
      );
      break;
    case 'SNS.Publish':
      report(call, injectIntoMessage(input as MessageInput, spanContext, { systemAttribute: false }).skipped);
      break;
    case 'SNS.PublishBatch':
      forEachEntry(input, 'PublishBatchRequestEntries', (entry) =>
        report(
          call,
          injectIntoMessage(entry as MessageInput, spanContext, { systemAttribute: false }).skipped,
        ),
      );
      break;
    case 'EventBridge.PutEvents': {
      const header = outgoingXrayHeader(spanContext, passedOnFields(context.active()));
      if (header === undefined) break;
      forEachEntry(input, 'Entries', (entry) => {
        if (typeof entry.TraceHeader !== 'string' || entry.TraceHeader === '') entry.TraceHeader = header;
      });
      break;
    }
  }
}

/** Replaces `input[key]` by an array of shallow copies, and calls `inject` on each copy. */
function forEachEntry(input: Input, key: string, inject: (entry: Input) => void): void {
  const entries = input[key];
  if (!Array.isArray(entries)) return;
  input[key] = entries.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return entry;
    const copy = { ...(entry as Input) };
    inject(copy);
    return copy;
  });
}

function report(call: AwsCall, skipped: readonly string[]): void {
  if (skipped.length > 0) {
    diag.debug(
      `${call.serviceName}.${call.commandName}: no room for message attribute(s) ${skipped.join(', ')} (10 at most; the user's come first)`,
    );
  }
}
