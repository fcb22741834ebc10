import type { Attributes } from '@opentelemetry/api';
import { AWS_THROTTLING_CODES as THROTTLING_CODES } from '../../semconv/aws-throttling.js';

/** The parts of the contrib instrumentation's normalized request this module reads. */
export interface AwsCall {
  readonly serviceName: string;
  readonly commandName: string;
  readonly commandInput?: Record<string, unknown>;
  readonly region?: string;
}

/**
 * Attributes the collector's `awsxray` exporter reads into a subsegment's `aws` block, which the
 * contrib instrumentation records under other names or not at all: `aws.region` (it records
 * `cloud.region`), `aws.operation`, and the SQS queue URL as `aws.queue_url` and `messaging.url`
 * (it records `url.full`). Table names (`aws.dynamodb.table_names`), the SNS topic ARN
 * (`aws.sns.topic.arn`) and the invoked function (`faas.invoked_name`) it records already.
 * https://github.com/open-telemetry/opentelemetry-collector-contrib/blob/main/exporter/awsxrayexporter/internal/translator/aws.go
 */
export function xrayRequestAttributes(call: AwsCall): Attributes {
  const attributes: Attributes = { 'aws.operation': call.commandName };
  if (call.region !== undefined && call.region !== '') attributes['aws.region'] = call.region;
  const input = call.commandInput;
  if (call.serviceName === 'SQS') {
    const queueUrl = input?.QueueUrl;
    if (typeof queueUrl === 'string' && queueUrl !== '') {
      attributes['aws.queue_url'] = queueUrl;
      attributes['messaging.url'] = queueUrl;
    }
  } else if (call.serviceName === 'SNS') {
    // Publish to a topic or to a target (an endpoint ARN); PublishBatch has only the topic.
    const topic = input?.TopicArn ?? input?.TargetArn;
    if (typeof topic === 'string' && topic !== '') attributes['aws.sns.topic.arn'] = topic;
  } else if (call.serviceName === 'Lambda') {
    const name = input?.FunctionName;
    if (typeof name === 'string' && name !== '') {
      attributes['faas.invoked_name'] = name;
      attributes['faas.invoked_provider'] = 'aws';
      if (name.startsWith('arn:')) attributes['aws.lambda.invoked_arn'] = name;
    }
  }
  return attributes;
}

/** The fields of an SDK v3 service error this module reads. */
interface ServiceErrorLike {
  name?: unknown;
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

/**
 * What a failed call adds to its span: `error.type` (the error's name, which is the AWS error code
 * for service errors), `aws.request_id` (SDK v3 errors carry it in `$metadata`, where the contrib
 * instrumentation does not look), and `aws.throttled` when AWS throttled the call, which X-Ray
 * shows as a throttle rather than a fault.
 */
export function xrayErrorAttributes(error: unknown): Attributes {
  const attributes: Attributes = {};
  if (typeof error !== 'object' || error === null) return attributes;
  const e = error as ServiceErrorLike;
  const name = typeof e.name === 'string' ? e.name : undefined;
  if (name !== undefined) attributes['error.type'] = name;
  const requestId = e.$metadata?.requestId;
  if (typeof requestId === 'string' && requestId !== '') attributes['aws.request_id'] = requestId;
  const status = e.$metadata?.httpStatusCode;
  const throttled =
    (name !== undefined && THROTTLING_CODES.has(name)) || status === 429 || e.$retryable?.throttling === true;
  if (throttled) attributes['aws.throttled'] = true;
  return attributes;
}
