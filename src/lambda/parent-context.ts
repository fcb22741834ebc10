import {
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type TextMapPropagator,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { LINKED_ROOT_CONTEXT } from '../context/linked-context.js';
import { passedOnFieldsOf } from '../propagation/xray-header.js';

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

/** What Lambda's trace header gives the invocation: its parent, and the fields to pass on. */
export interface LambdaHeader {
  /**
   * The parent of the invocation span: the header as a remote span context (`ROOT_CONTEXT` without
   * a header), so the span's trace ID is the header's `Root`, its parent the header's `Parent`, and
   * `Sampled=0` makes the parent-based sampler drop the whole invocation.
   */
  readonly parent: Context;
  /** The fields other than `Root`, `Parent` and `Sampled`, as `passedOnFieldsOf` reads them. */
  readonly passedOn: string | undefined;
}

const NO_HEADER: LambdaHeader = { parent: ROOT_CONTEXT, passedOn: undefined };

/**
 * Lambda's trace header, read once for the parent and the fields passed on. The header exactly as
 * Lambda writes it, `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled=0|1`, then nothing or
 * `;Lineage=…`, is read with one regular expression, because it is read on every invocation, where
 * the propagator (carrier, getter, split, per-part checks) cost ~35 µs after a freeze; the result is
 * what the propagator and `passedOnFieldsOf` give (tests hold them equal), which read anything else
 * (another order, spacing, more fields, all-zero ids).
 */
export function readLambdaHeader(header: string | undefined): LambdaHeader {
  if (header === undefined) return NO_HEADER;
  const match = LAMBDA_HEADER.exec(header);
  const rest = match?.[5];
  const usual = match !== null && (rest === undefined || LINEAGE_ONLY.test(rest));
  const parent = usual ? contextOf(match) : undefined;
  if (parent !== undefined) return { parent, passedOn: rest };
  return {
    parent: xray.extract(ROOT_CONTEXT, { [HEADER]: header }, defaultTextMapGetter),
    passedOn: passedOnFieldsOf(header),
  };
}

const LAMBDA_HEADER = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])(?:;(.*))?$/;
const LINEAGE_ONLY = /^Lineage=[^;\s]*$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

function contextOf(match: RegExpExecArray): Context | undefined {
  const traceId = `${match[1]}${match[2]}`;
  const spanId = match[3] as string;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return trace.setSpanContext(LINKED_ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: match[4] === '1' ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}
