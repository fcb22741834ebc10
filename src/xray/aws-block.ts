import { accountIdOf, parseArn } from '../aws/arn.js';
import type { AttributeReader } from './attribute-reader.js';
import type { XRayAws, XRayLogGroup } from './segment-types.js';

/** `rpc.system` of spans made by the AWS SDK instrumentations. */
export const AWS_API_RPC_SYSTEM = 'aws-api';

/** Whether the span is an AWS SDK call (`rpc.system` = `aws-api`). */
export function isAwsSdkSpan(attrs: AttributeReader): boolean {
  return attrs.string('rpc.system') === AWS_API_RPC_SYSTEM;
}

/** What `makeAwsBlock` needs to know about the span. */
export interface AwsSource {
  attributes: AttributeReader;
  /** The resource's part of the block, from {@link resourceAwsOf} (computed once per resource). */
  resource: ResourceAws;
  isAwsSdk: boolean;
  /** Whether the span becomes a segment; only Lambda segments get the function ARN. */
  isSegment: boolean;
}

/**
 * Builds the `aws` block, or returns `undefined` when it would be empty or the resource runs
 * on another cloud (`cloud.provider` set and not `aws`: the collector writes no `aws` block then).
 *
 * From the span (the AWS call a subsegment made): `operation`, `region`, `request_id`,
 * `queue_url`, `table_name`/`table_names`, `topic_arn`, `function_name`, `function_arn`,
 * `bucket_name`, `key_name`, `account_id`.
 * From the resource, on every document as the collector does: `account_id`, `cloudwatch_logs`,
 * `ec2`, `ecs`, `eks`, `elastic_beanstalk`, `xray` (the SDK that made the data).
 */
export function makeAwsBlock(source: AwsSource): XRayAws | undefined {
  const { resource } = source;
  if (resource.otherCloud) return undefined;

  const aws: XRayAws = { ...callFields(source), ...resource.fields };
  const account =
    source.attributes.string('aws.account_id', 'cloud.account.id') ??
    resource.accountId ??
    accountIdOf(aws.function_arn);
  if (account !== undefined) aws.account_id = account;
  source.attributes.consume('aws.account_id', 'cloud.account.id');

  if (source.isSegment && resource.lambdaFunctionArn !== undefined && aws.function_arn === undefined) {
    aws.function_arn = resource.lambdaFunctionArn;
  }

  return Object.keys(aws).length > 0 ? aws : undefined;
}

/**
 * The part of the `aws` block that depends on the resource alone. Shared by every document of
 * the resource: its nested objects are frozen, documents must be treated as read-only.
 */
export interface ResourceAws {
  /** `cloud.provider` names another cloud: the collector writes no `aws` block then. */
  readonly otherCloud: boolean;
  /** `cloudwatch_logs`, `ec2`, `ecs`, `eks`, `elastic_beanstalk`, `xray`, as present. */
  readonly fields: Readonly<XRayAws>;
  /** The resource's `cloud.account.id`. */
  readonly accountId: string | undefined;
  /** The unqualified function ARN a Lambda function's segments carry, if the resource is one. */
  readonly lambdaFunctionArn: string | undefined;
}

/** Computes the resource's part of the `aws` block (see {@link ResourceAws}). */
export function resourceAwsOf(resource: AttributeReader): ResourceAws {
  const provider = resource.string('cloud.provider');
  const arn =
    resource.string('cloud.platform') === 'aws_lambda'
      ? resource.string('cloud.resource_id', 'faas.id')
      : undefined;
  return Object.freeze({
    otherCloud: provider !== undefined && provider !== 'aws',
    fields: deepFreeze(resourceFields(resource)),
    accountId: resource.string('cloud.account.id'),
    lambdaFunctionArn: arn === undefined ? undefined : unqualifiedFunctionArn(arn),
  });
}

/** Freezes `value` and everything in it: shared between documents, it must never change. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The groups of `callFields`, and the span attribute keys each one reads (AWS SDK calls read more:
 * see `callFields`). A span with none of a group's keys skips that group: most spans (every HTTP,
 * SQL and invocation span) have none or one, and this runs for every span the layer exports.
 */
const GROUP = { operation: 1, queue: 2, table: 4, topic: 8, function: 16, s3: 32 } as const;
const GROUP_KEYS: Record<keyof typeof GROUP, readonly string[]> = {
  operation: ['aws.operation', 'aws.region', 'aws.request_id', 'aws.requestId', 'aws.request.id'],
  queue: ['messaging.url', 'aws.sqs.queue.url', 'aws.queue_url', 'aws.queue.url'],
  table: ['aws.dynamodb.table_names', 'aws.table_name', 'aws.table.name'],
  topic: ['aws.sns.topic.arn', 'messaging.destination.name', 'messaging.destination'],
  function: ['aws.lambda.invoked_arn', 'faas.invoked_name'],
  s3: ['aws.s3.bucket', 'aws.s3.key'],
};
const CALL_FIELD_GROUPS = new Map<string, number>(
  (Object.keys(GROUP_KEYS) as (keyof typeof GROUP)[]).flatMap((group) =>
    GROUP_KEYS[group].map((key) => [key, GROUP[group]] as const),
  ),
);
const ALL_GROUPS = Object.values(GROUP).reduce((all, bit) => all | bit, 0);

/** The groups of `callFields` the span has keys of: an AWS SDK call goes through all of them. */
function callFieldGroups(attrs: AttributeReader, isAwsSdk: boolean): number {
  if (isAwsSdk) return ALL_GROUPS;
  let groups = 0;
  for (const key in attrs.attributes) groups |= CALL_FIELD_GROUPS.get(key) ?? 0;
  return groups;
}

/** Fields describing the AWS API call of the span. */
function callFields({ attributes: attrs, isAwsSdk }: AwsSource): XRayAws {
  const fields: XRayAws = {};
  const groups = callFieldGroups(attrs, isAwsSdk);
  if (groups === 0) return fields;
  if (groups & GROUP.operation) operationFields(attrs, isAwsSdk, fields);
  if (groups & GROUP.queue) {
    const queueUrl = queueUrlOf(attrs, isAwsSdk);
    if (queueUrl !== undefined) fields.queue_url = queueUrl;
    attrs.consume('messaging.url', 'aws.sqs.queue.url', 'aws.queue_url', 'aws.queue.url');
  }
  if (groups & GROUP.table) Object.assign(fields, tableFields(attrs));
  if (groups & GROUP.topic) {
    const topicArn = attrs.string('aws.sns.topic.arn') ?? snsDestination(attrs);
    if (topicArn !== undefined) fields.topic_arn = topicArn;
    attrs.consume('aws.sns.topic.arn');
  }
  if (groups & GROUP.function) {
    const invokedArn = attrs.string('aws.lambda.invoked_arn');
    if (invokedArn !== undefined) fields.function_arn = unqualifiedFunctionArn(invokedArn);
    const functionName = attrs.string('faas.invoked_name');
    if (functionName !== undefined) fields.function_name = functionName;
    attrs.consume('aws.lambda.invoked_arn', 'faas.invoked_name');
  }
  if (groups & GROUP.s3) {
    const bucket = attrs.string('aws.s3.bucket');
    if (bucket !== undefined) fields.bucket_name = bucket;
    const key = attrs.string('aws.s3.key');
    if (key !== undefined) fields.key_name = key;
    attrs.consume('aws.s3.bucket', 'aws.s3.key');
  }
  return fields;
}

/** `operation`, `region` and `request_id`. */
function operationFields(attrs: AttributeReader, isAwsSdk: boolean, fields: XRayAws): void {
  // The collector reads `rpc.method` for any span; only an AWS call's method is an AWS operation.
  const operation = attrs.string('aws.operation') ?? (isAwsSdk ? attrs.string('rpc.method') : undefined);
  if (operation !== undefined) fields.operation = operation;
  attrs.consume('aws.operation', ...(isAwsSdk ? ['rpc.method'] : []));

  // The JS AWS SDK instrumentation records the call's region as the span's `cloud.region`.
  const region = attrs.string('aws.region') ?? (isAwsSdk ? attrs.string('cloud.region') : undefined);
  if (region !== undefined) fields.region = region;
  attrs.consume('aws.region', ...(isAwsSdk ? ['cloud.region'] : []));

  const requestId = attrs.string('aws.request_id', 'aws.requestId', 'aws.request.id');
  if (requestId !== undefined) fields.request_id = requestId;
  attrs.consume('aws.request_id', 'aws.requestId', 'aws.request.id');
}

/**
 * The SQS queue URL. Semantic-convention keys win over the older custom ones, as in the
 * collector; the JS AWS SDK instrumentation records the queue URL of an SQS call as `url.full`.
 */
function queueUrlOf(attrs: AttributeReader, isAwsSdk: boolean): string | undefined {
  const url = attrs.string('messaging.url', 'aws.sqs.queue.url', 'aws.queue_url', 'aws.queue.url');
  if (url !== undefined) return url;
  const isSqs = attrs.string('messaging.system') === 'aws_sqs' || attrs.string('rpc.service') === 'SQS';
  return isAwsSdk && isSqs ? attrs.string('url.full') : undefined;
}

/** One DynamoDB table goes to `table_name`, several to `table_names` (the collector's rule). */
function tableFields(attrs: AttributeReader): XRayAws {
  attrs.consume('aws.dynamodb.table_names', 'aws.table_name', 'aws.table.name');
  const tables = attrs.strings('aws.dynamodb.table_names');
  if (tables !== undefined) return tables.length === 1 ? { table_name: tables[0] } : { table_names: tables };
  const table = attrs.string('aws.table_name', 'aws.table.name');
  return table === undefined ? {} : { table_name: table };
}

/** An SNS publish names its topic ARN as the messaging destination. */
function snsDestination(attrs: AttributeReader): string | undefined {
  const destination = attrs.string('messaging.destination.name', 'messaging.destination');
  return destination?.startsWith('arn:') && destination.includes(':sns:') ? destination : undefined;
}

/** Fields describing where the code ran, from the resource. */
function resourceFields(resource: AttributeReader): XRayAws {
  const fields: XRayAws = {};
  const platform = resource.string('cloud.platform');
  const zone = resource.string('cloud.availability_zone');

  const logGroups = logGroupsOf(resource);
  if (logGroups !== undefined) fields.cloudwatch_logs = logGroups;

  const hostId = resource.string('host.id');
  if (platform === 'aws_ec2' || hostId !== undefined) {
    fields.ec2 = defined({
      instance_id: hostId,
      availability_zone: zone,
      instance_size: resource.string('host.type'),
      ami_id: resource.string('host.image.id'),
    });
  }
  if (platform === 'aws_ecs') {
    fields.ecs = defined({
      container: resource.string('container.name'),
      container_id: resource.string('container.id'),
      task_arn: resource.string('aws.ecs.task.arn'),
      task_family: resource.string('aws.ecs.task.family'),
      cluster_arn: resource.string('aws.ecs.cluster.arn'),
      container_arn: resource.string('aws.ecs.container.arn'),
      availability_zone: zone,
      launch_type: resource.string('aws.ecs.launchtype'),
    });
  }
  const cluster = resource.string('k8s.cluster.name');
  if (platform === 'aws_eks' || cluster !== undefined) {
    fields.eks = defined({
      cluster_name: cluster,
      pod: resource.string('k8s.pod.name'),
      container_id: resource.string('container.id'),
    });
  }
  const deployment = resource.string('service.instance.id');
  if (platform === 'aws_elastic_beanstalk' && deployment !== undefined) {
    const deploymentId = Number.parseInt(deployment, 10);
    fields.elastic_beanstalk = defined({
      environment_name: resource.string('service.namespace'),
      version_label: resource.string('service.version'),
      deployment_id: Number.isNaN(deploymentId) ? 0 : deploymentId,
    });
  }

  const sdkName = resource.string('telemetry.sdk.name');
  if (sdkName !== undefined) {
    // X-Ray shows SDKs as e.g. "X-Ray SDK for Java"; the collector writes "opentelemetry for nodejs".
    const language = resource.string('telemetry.sdk.language');
    const suffix = language === undefined ? '' : ` for ${language}`;
    const sdk = sdkName.toLowerCase().endsWith(suffix.toLowerCase()) ? sdkName : `${sdkName}${suffix}`;
    fields.xray = defined({
      sdk,
      sdk_version: resource.string('telemetry.sdk.version'),
      auto_instrumentation: resource.has('telemetry.auto.version', 'telemetry.distro.version'),
    });
  }
  return fields;
}

/**
 * `cloudwatch_logs` from `aws.log.group.arns` (name parsed from the ARN) or
 * `aws.log.group.names`; a plain string (as `OTEL_RESOURCE_ATTRIBUTES` gives) counts as one.
 */
function logGroupsOf(resource: AttributeReader): XRayLogGroup[] | undefined {
  const arns = resource.strings('aws.log.group.arns');
  if (arns !== undefined) return arns.map((arn) => ({ log_group: logGroupFromArn(arn), arn }));
  const names = resource.strings('aws.log.group.names');
  return names?.map((name) => ({ log_group: name }));
}

/** `arn:aws:logs:<region>:<account>:log-group:<name>[:*]`: the name is the 7th part. */
function logGroupFromArn(arn: string): string {
  const resource = parseArn(arn)?.resource;
  const name = resource?.split(':')[1];
  return name ?? arn;
}

/**
 * `arn:aws:lambda:<region>:<account>:function:<name>[:<alias or version>]` without qualifier: the
 * ARN up to its 7th `:` when its 6th part is `function`, else the ARN as it is. Found by scanning
 * for the colons rather than splitting and joining: it runs on every Lambda segment.
 */
export function unqualifiedFunctionArn(arn: string): string {
  const colons: number[] = [];
  for (let at = arn.indexOf(':'); at !== -1 && colons.length < 7; at = arn.indexOf(':', at + 1)) {
    colons.push(at);
  }
  if (colons.length < 7 || arn.slice(colons[4] + 1, colons[5]) !== 'function') return arn;
  return arn.slice(0, colons[6]);
}

/**
 * The origin X-Ray shows for the segment's service, from the resource. `AWS::Lambda::Function`
 * joins the segment with the function node the Lambda service draws; the others are the
 * collector's.
 */
export function awsOrigin(resource: AttributeReader): string | undefined {
  const provider = resource.string('cloud.provider');
  if (provider !== undefined && provider !== 'aws') return undefined;
  switch (resource.string('cloud.platform')) {
    case 'aws_lambda':
      return 'AWS::Lambda::Function';
    case 'aws_ec2':
      return 'AWS::EC2::Instance';
    case 'aws_eks':
      return 'AWS::EKS::Container';
    case 'aws_elastic_beanstalk':
      return 'AWS::ElasticBeanstalk::Environment';
    case 'aws_app_runner':
      return 'AWS::AppRunner::Service';
    case 'aws_ecs':
      switch (resource.string('aws.ecs.launchtype')) {
        case 'ec2':
          return 'AWS::ECS::EC2';
        case 'fargate':
          return 'AWS::ECS::Fargate';
        default:
          return 'AWS::ECS::Container';
      }
    default:
      return undefined;
  }
}

/** A copy of `fields` without its `undefined` members (JSON would drop them, tests would not). */
function defined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}
