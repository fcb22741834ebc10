import {
  type Context,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import { spanContextFromXrayHeader } from './xray-header.js';

/**
 * One message's trace context as found on it: the X-Ray header AWS keeps across hops
 * (`AWSTraceHeader`), and/or trace headers from its message attributes, lower-cased names.
 */
export interface MessageCarrierLike {
  readonly xrayHeader?: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The context a message was sent from. The X-Ray header wins: AWS services keep it across SNS →
 * SQS and EventBridge hops, while message attributes may have been set by a hop in between.
 * Message attributes go through the configured propagators (`OTEL_PROPAGATORS`), so a consumer
 * reads what its own producers write. Returns `ROOT_CONTEXT` (no parent) when the message carries
 * no valid context.
 */
export function contextFromCarrier(carrier: MessageCarrierLike): Context {
  if (carrier.xrayHeader !== undefined) {
    const fromXray = spanContextFromXrayHeader(carrier.xrayHeader);
    if (fromXray !== undefined) return trace.setSpanContext(ROOT_CONTEXT, fromXray);
  }
  return contextFromHeaders(carrier.headers);
}

function contextFromHeaders(headers: Readonly<Record<string, string>>): Context {
  if (Object.keys(headers).length === 0) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers);
}

function spanContextFromHeaders(headers: Readonly<Record<string, string>>): SpanContext | undefined {
  const spanContext = trace.getSpanContext(contextFromHeaders(headers));
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * One link per distinct producer span among `carriers`, in order, at most `limit`. Messages sent
 * in one batch share their producer span: linking it once per message would only repeat it.
 */
export function linksFromCarriers(carriers: readonly MessageCarrierLike[], limit: number): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  // A batch send repeats its producer's header on every message: a header already linked is
  // skipped before it is parsed again (a batch can hold 10,000 messages, all to be looked at).
  const linkedHeaders = new Set<string>();
  for (const carrier of carriers) {
    if (links.length >= limit) break;
    const header = carrier.xrayHeader;
    if (header !== undefined && linkedHeaders.has(header)) continue;
    const fromXray = header === undefined ? undefined : spanContextFromXrayHeader(header);
    if (fromXray !== undefined) linkedHeaders.add(header as string);
    const spanContext = fromXray ?? spanContextFromHeaders(carrier.headers);
    if (spanContext === undefined) continue;
    const key = `${spanContext.traceId}/${spanContext.spanId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push({ context: spanContext });
  }
  return links;
}
