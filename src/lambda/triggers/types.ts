import type { Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';

/** The semantic conventions' `faas.trigger` values. */
export type FaasTrigger = 'http' | 'pubsub' | 'datasource' | 'timer' | 'other';

/**
 * Which AWS integration invoked the function, as far as the event's shape tells.
 * `direct` covers every event that is not recognised: `Invoke` from an SDK or the console,
 * Step Functions, and the event sources this module does not parse.
 */
export type InvocationSource =
  | 'api-gateway-rest'
  | 'api-gateway-http'
  | 'alb'
  | 'function-url'
  | 'sqs'
  | 'sns'
  | 's3'
  | 'dynamodb-stream'
  | 'kinesis'
  | 'cloudwatch-logs'
  | 'eventbridge-schedule'
  | 'eventbridge'
  | 'direct';

/** What the invocation span should be called and carry, derived from the event alone. */
export interface InvocationDescription {
  readonly trigger: FaasTrigger;
  /** Short id of the integration, for logs and tests; not recorded as an attribute. */
  readonly source: InvocationSource;
  /** Low-cardinality span name; `undefined` means "use the function name". */
  readonly spanName: string | undefined;
  readonly kind: SpanKind;
  /** Attributes to set when the span starts. Never holds header values outside the allow-list, bodies or secrets. */
  readonly attributes: Attributes;
  /**
   * HTTP triggers only: the request's headers with lower-cased names, for the caller's propagators
   * (`traceparent`, `tracestate`, `x-amzn-trace-id`, `baggage`...). Credentials (`authorization`,
   * `cookie`, `x-api-key`, any name that looks secret) are left out: no propagator reads them.
   * Never copy these into attributes.
   */
  readonly incomingHeaders?: Record<string, string>;
  /**
   * HTTP triggers only: the Lambda proxy payload format. It decides how {@link describeResult}
   * reads the handler's result: with `2.0` API Gateway infers a 200 response from a result that has
   * no `statusCode`; with `1.0` (REST APIs, ALB) such a result is a malformed response, a 502.
   */
  readonly payloadFormat?: '1.0' | '2.0';
}

/** What to add to the invocation span once the handler has returned. */
export interface ResultDescription {
  readonly attributes: Attributes;
  readonly status?: { code: SpanStatusCode; message?: string };
}

/** One message's trace-context carriers, for the caller to turn into span links. */
export interface MessageCarrier {
  /** The message system attribute `AWSTraceHeader` (X-Ray format). When present it wins over `headers`. */
  readonly xrayHeader?: string;
  /**
   * Trace headers found in the message's user attributes (`traceparent`, `tracestate`, `baggage`,
   * `x-amzn-trace-id`), with lower-cased names. With `xrayHeader` set they are read only when it
   * names no valid context (no `Parent`, `Sampled=?`): the system attribute is the one AWS
   * services keep across hops, and reading both would link one producer twice.
   */
  readonly headers: Record<string, string>;
}
