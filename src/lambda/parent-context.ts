import { type Context, defaultTextMapGetter, ROOT_CONTEXT, type TextMapPropagator } from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';

const xray: TextMapPropagator = new AWSXRayPropagator();
const HEADER = 'x-amzn-trace-id';

/** The subset of the Lambda context the layer reads for tracing. */
export interface TraceableLambdaContext {
  readonly awsRequestId?: string;
  readonly invokedFunctionArn?: string;
  readonly xRayTraceId?: string;
  getRemainingTimeInMillis?(): number;
}

/**
 * Lambda's own trace header for this invocation: `context.xRayTraceId` first, because when the
 * runtime runs several invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY`) the process-wide
 * `_X_AMZN_TRACE_ID` is not set, then the environment variable.
 */
export function lambdaTraceHeader(context: TraceableLambdaContext | undefined): string | undefined {
  const fromContext = context?.xRayTraceId;
  if (typeof fromContext === 'string' && fromContext !== '') return fromContext;
  const fromEnv = process.env._X_AMZN_TRACE_ID;
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * The parent of the invocation span: Lambda's trace header as a remote span context, so the span's
 * trace ID is the header's `Root`, its parent the header's `Parent`, and `Sampled=0` makes the
 * parent-based sampler drop the whole invocation.
 */
export function parentFromTraceHeader(header: string | undefined): Context {
  if (header === undefined) return ROOT_CONTEXT;
  return xray.extract(ROOT_CONTEXT, { [HEADER]: header }, defaultTextMapGetter);
}
