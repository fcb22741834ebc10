import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';

const xray = new AWSXRayPropagator();
const HEADER = 'x-amzn-trace-id';

/**
 * The X-Ray trace header naming `spanContext` as the parent:
 * `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`, the format of
 * SQS's `AWSTraceHeader` system attribute and of the `X-Amzn-Trace-Id` HTTP header. Undefined for
 * an invalid span context (no span, or a non-recording placeholder).
 */
export function xrayHeaderOf(spanContext: SpanContext): string | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const carrier: Record<string, string> = {};
  xray.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
  return carrier[HEADER];
}

/** The remote span context an X-Ray trace header names, or undefined when it names none. */
export function spanContextFromXrayHeader(header: string): SpanContext | undefined {
  const extracted: Context = xray.extract(ROOT_CONTEXT, { [HEADER]: header }, defaultTextMapGetter);
  const spanContext = trace.getSpanContext(extracted);
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}
