import {
  type Context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { LINKED_ROOT_CONTEXT } from '../context/linked-context.js';

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
  xray.inject(trace.setSpanContext(LINKED_ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
  return carrier[HEADER];
}

/**
 * The header {@link xrayHeaderOf} writes, followed by `fields`, the fields of Lambda's own trace
 * header that must travel on (see {@link passedOnFieldsOf}).
 */
export function outgoingXrayHeader(spanContext: SpanContext, fields: string | undefined): string | undefined {
  const header = xrayHeaderOf(spanContext);
  return header === undefined || fields === undefined ? header : `${header};${fields}`;
}

// Lambda's header as it usually comes: nothing to pass on, and no split needed to see so.
const ONLY_TRACE_FIELDS = /^Root=[^;]*;Parent=[^;]*;Sampled=[^;]*$/;
const TRACE_FIELDS = new Set(['root', 'parent', 'sampled']);

/**
 * The fields of an X-Ray trace header other than `Root`, `Parent` and `Sampled`, as written and
 * joined by `;` (`Lineage=a87bd80c:1`), or undefined when there are none. Lambda counts the hops of
 * one triggering event in `Lineage` and stops a recursive loop (Lambda, SQS, SNS, S3) after 16;
 * the AWS SDK passes the function's header on as it came. The headers this layer writes in its
 * place (an SDK request's `X-Amzn-Trace-Id`, SQS's `AWSTraceHeader`, EventBridge's `TraceHeader`)
 * name the call's span instead, and must carry these fields on, or loop detection stops working.
 */
export function passedOnFieldsOf(header: string): string | undefined {
  if (ONLY_TRACE_FIELDS.test(header)) return undefined;
  let fields: string | undefined;
  for (const part of header.split(';')) {
    const field = part.trim();
    const equals = field.indexOf('=');
    const key = (equals < 0 ? field : field.slice(0, equals)).trim().toLowerCase();
    if (field === '' || TRACE_FIELDS.has(key)) continue;
    fields = fields === undefined ? field : `${fields};${field}`;
  }
  return fields;
}

const PASSED_ON = createContextKey('otel-lambda-xray: X-Ray trace header fields passed on');

/** `context` carrying the fields of Lambda's trace header to pass on (none: `context` itself). */
export function withPassedOnFields(context: Context, fields: string | undefined): Context {
  return fields === undefined ? context : context.setValue(PASSED_ON, fields);
}

/** The fields of Lambda's trace header to pass on, as the invocation's context carries them. */
export function passedOnFields(context: Context): string | undefined {
  const fields = context.getValue(PASSED_ON);
  return typeof fields === 'string' ? fields : undefined;
}

/** The remote span context an X-Ray trace header names, or undefined when it names none. */
export function spanContextFromXrayHeader(header: string): SpanContext | undefined {
  const extracted: Context = xray.extract(ROOT_CONTEXT, { [HEADER]: header }, defaultTextMapGetter);
  const spanContext = trace.getSpanContext(extracted);
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}
