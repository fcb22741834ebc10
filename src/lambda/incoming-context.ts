import {
  type Context,
  defaultTextMapGetter,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { IncomingContextPolicy } from '../config/load-config.js';

/** The invocation span's parent, and the contexts it should link to instead of continuing. */
export interface InvocationParent {
  readonly context: Context;
  readonly links: Link[];
}

/** Reads a trace context out of request headers; the global propagator unless a test passes one. */
export type ExtractFromHeaders = (headers: Record<string, string>) => Context;

const globalExtract: ExtractFromHeaders = (headers) =>
  propagation.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);

/**
 * Chooses between Lambda's trace header and the one the HTTP request carried (`traceparent`,
 * `X-Amzn-Trace-Id`, through the configured propagators):
 *
 * - `lambda`: Lambda's context, always. With active tracing on, Lambda's header already continues
 *   API Gateway's trace, and the X-Ray service map expects the function under Lambda's node.
 * - `incoming-if-unsampled`: Lambda's context when Lambda sampled the request; otherwise (no header,
 *   or `Sampled=0`, as with active tracing off) the request's, so a traced caller's trace goes on.
 * - `incoming`: the request's context whenever it has a valid one.
 *
 * The request's context, when valid, in another trace and not chosen, becomes a span link so the
 * caller's trace can still be found from this one. Lambda's context is linked only when it was
 * sampled: an unsampled one recorded nothing to point at.
 */
export function selectInvocationParent(
  lambdaParent: Context,
  incomingHeaders: Readonly<Record<string, string>> | undefined,
  policy: IncomingContextPolicy,
  extract: ExtractFromHeaders = globalExtract,
): InvocationParent {
  if (incomingHeaders === undefined) return { context: lambdaParent, links: [] };
  const lambdaSpan = validSpanContext(lambdaParent);
  const incoming = extract({ ...incomingHeaders });
  const incomingSpan = validSpanContext(incoming);
  if (incomingSpan === undefined) return { context: lambdaParent, links: [] };

  const lambdaSampled = lambdaSpan !== undefined && (lambdaSpan.traceFlags & TraceFlags.SAMPLED) !== 0;
  const useIncoming = policy === 'incoming' || (policy === 'incoming-if-unsampled' && !lambdaSampled);
  if (useIncoming) {
    const links =
      lambdaSampled && lambdaSpan.traceId !== incomingSpan.traceId ? [{ context: lambdaSpan }] : [];
    return { context: incoming, links };
  }
  const sameTrace = lambdaSpan !== undefined && lambdaSpan.traceId === incomingSpan.traceId;
  return { context: lambdaParent, links: sameTrace ? [] : [{ context: incomingSpan }] };
}

function validSpanContext(context: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context);
  return spanContext !== undefined && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}
