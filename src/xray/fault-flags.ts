import { type SpanStatus, SpanStatusCode } from '@opentelemetry/api';
import { AWS_THROTTLING_CODES } from '../semconv/aws-throttling.js';

/** X-Ray's three failure flags. */
export interface FaultFlags {
  /** A client error (4xx): the caller's fault. */
  error: boolean;
  /** A server error (5xx) or an unclassified failure. */
  fault: boolean;
  /** The request was throttled (429, or an AWS throttling error). */
  throttle: boolean;
}

/** What `faultFlags` needs to know about the span. */
export interface FaultSource {
  status: SpanStatus;
  httpStatus: number | undefined;
  isAwsSdk: boolean;
  exceptionTypes: readonly string[];
  /** The span's `aws.throttled` attribute, which the AWS SDK instrumentation sets. */
  throttled: boolean;
}

/**
 * Decides `error`, `fault` and `throttle` as the collector does: the HTTP status wins when it is
 * 4xx (`error`, and `throttle` for 429) or 5xx (`fault`); otherwise an ERROR status is a
 * `fault`. HTTP spans often keep an UNSET status, so the status code alone would miss them.
 *
 * One addition: an AWS SDK call that failed with a throttling error code (which AWS often
 * returns as 400, sometimes as 503 (S3's `SlowDown`), or which the instrumentation records with no
 * HTTP status at all), or that the instrumentation marked `aws.throttled`, is marked `throttle`
 * and `error`, as the X-Ray SDKs do, not `fault`.
 */
export function faultFlags(source: FaultSource): FaultFlags {
  const { httpStatus } = source;
  const isErrorStatus = source.status.code === SpanStatusCode.ERROR;
  const awsThrottled =
    source.isAwsSdk &&
    (source.throttled || source.exceptionTypes.some((type) => AWS_THROTTLING_CODES.has(type)));

  if (awsThrottled && (httpStatus === undefined || httpStatus >= 400)) {
    return { error: true, fault: false, throttle: true };
  }
  if (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599) {
    return { error: false, fault: true, throttle: false };
  }
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus <= 499) {
    return { error: true, fault: false, throttle: httpStatus === 429 };
  }
  return { error: false, fault: isErrorStatus, throttle: false };
}
