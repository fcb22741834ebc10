import type { Attributes } from '@opentelemetry/api';
import { parseFunctionArn } from '../aws/arn.js';
import type { Config } from '../config/load-config.js';

/** The distribution's name and version, reported as `telemetry.distro.*`. */
export const DISTRO_NAME = 'otel-lambda-xray';
export const DISTRO_VERSION = '0.1.0';

/**
 * The resource attributes that describe the function, built from what Lambda sets in the
 * environment. Resource detectors would do the same with more modules to load in the cold start.
 * `aws.log.group.names` lets X-Ray link the trace to the function's CloudWatch logs.
 */
export function functionResourceAttributes(config: Readonly<Config>): Attributes {
  const { lambda } = config;
  const attributes: Attributes = {
    ...config.resourceAttributes,
    'service.name': config.serviceName,
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_lambda',
    'faas.name': lambda.functionName,
    'faas.version': lambda.functionVersion,
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.distro.name': DISTRO_NAME,
    'telemetry.distro.version': DISTRO_VERSION,
  };
  if (lambda.region !== undefined) attributes['cloud.region'] = lambda.region;
  // Semantic conventions give faas.max_memory in bytes; Lambda gives megabytes.
  if (lambda.memoryMb !== undefined) attributes['faas.max_memory'] = lambda.memoryMb * 1024 * 1024;
  if (lambda.logStream !== undefined) attributes['faas.instance'] = lambda.logStream;
  if (lambda.logGroup !== undefined) attributes['aws.log.group.names'] = [lambda.logGroup];
  return attributes;
}

/** Attributes derived from the invoked ARN: the same for every invocation of one qualifier. */
export interface ArnAttributes {
  readonly 'cloud.resource_id': string;
  readonly 'cloud.account.id'?: string;
}

/**
 * `cloud.resource_id` is the function's ARN with an alias replaced by the version that ran
 * (semantic conventions, cloud.resource_id on AWS Lambda), and `cloud.account.id` its account field.
 */
export function arnAttributes(invokedArn: string, functionVersion: string): ArnAttributes {
  const arn = parseFunctionArn(invokedArn);
  if (!arn) return { 'cloud.resource_id': invokedArn };
  const resourceId =
    arn.qualifier !== undefined && functionVersion !== '$LATEST'
      ? `${arn.unqualified}:${functionVersion}`
      : arn.unqualified;
  return arn.account
    ? { 'cloud.resource_id': resourceId, 'cloud.account.id': arn.account }
    : { 'cloud.resource_id': resourceId };
}
