import { type Attributes, SpanKind } from '@opentelemetry/api';
import { type ParsedArn, parseArn } from '../../aws/arn.js';
import type { FaasTrigger, InvocationDescription, InvocationSource } from './types.js';
import { type Obj, obj, str } from './util.js';

/*
 * Events with a `Records` array: SQS, SNS, S3 notifications, DynamoDB Streams and Kinesis.
 * The first record says which; the others are only read where the batch as a whole matters
 * (one source or several, one operation or several), so a 10,000-message batch costs one
 * comparison per record and nothing more.
 *
 * Span kind is SERVER for these too, see `index.ts`.
 */

// Both the deprecated `messaging.operation` and its replacements: tools read either.
const PROCESS: Attributes = {
  'messaging.operation.type': 'process',
  'messaging.operation.name': 'process',
  'messaging.operation': 'process',
};

/** Describes a non-empty `Records` array, or returns undefined for records of an unknown source. */
export function describeRecords(records: readonly unknown[]): InvocationDescription | undefined {
  const first = obj(records[0]);
  if (first === undefined) return undefined;
  // SNS spells it `EventSource`, the others `eventSource`.
  switch (str(first.eventSource) ?? str(first.EventSource)) {
    case 'aws:sqs':
      return describeSqs(records, first);
    case 'aws:sns':
      return describeSns(records, first);
    case 'aws:s3':
      return describeS3(records, first);
    case 'aws:dynamodb':
      return describeDynamoDb(records, first);
    case 'aws:kinesis':
      return describeKinesis(records, first);
    default:
      return undefined;
  }
}

function description(
  trigger: FaasTrigger,
  source: InvocationSource,
  spanName: string | undefined,
  attributes: Attributes,
): InvocationDescription {
  return { trigger, source, spanName, kind: SpanKind.SERVER, attributes };
}

/** The ARN shared by every record, or undefined when they differ (or have none). */
function sharedSourceArn(records: readonly unknown[], first: Obj): string | undefined {
  const arn = str(first.eventSourceARN);
  if (arn === undefined) return undefined;
  for (let i = 1; i < records.length; i++) {
    if (obj(records[i])?.eventSourceARN !== arn) return undefined;
  }
  return arn;
}

/** SQS's queue URL for a queue ARN; undefined in partitions whose domain is not known here. */
function queueUrl(arn: ParsedArn): string | undefined {
  let domain: string;
  if (arn.partition === 'aws' || arn.partition === 'aws-us-gov') domain = 'amazonaws.com';
  else if (arn.partition === 'aws-cn') domain = 'amazonaws.com.cn';
  else return undefined;
  if (arn.region === '' || arn.account === '' || arn.resource === '') return undefined;
  return `https://sqs.${arn.region}.${domain}/${arn.account}/${arn.resource}`;
}

function describeSqs(records: readonly unknown[], first: Obj): InvocationDescription {
  const attributes: Attributes = {
    'faas.trigger': 'pubsub',
    // `messaging.system` is deprecated for `messaging.system.name`, and the value changed with it;
    // the Lambda conventions and existing dashboards still use the old pair.
    'messaging.system': 'aws_sqs',
    'messaging.system.name': 'aws.sqs',
    ...PROCESS,
  };
  // Semantic conventions: a single message is identified by its id, a batch by its size.
  if (records.length === 1) {
    const id = str(first.messageId);
    if (id !== undefined) attributes['messaging.message.id'] = id;
  } else {
    attributes['messaging.batch.message_count'] = records.length;
  }
  const shared = sharedSourceArn(records, first);
  const arn = parseArn(shared);
  if (arn === undefined || arn.resource === '') {
    // An event source mapping reads one queue, so several sources only come from hand-made events.
    const several = shared === undefined && str(first.eventSourceARN) !== undefined;
    return description('pubsub', 'sqs', several ? 'multiple_sources process' : undefined, attributes);
  }
  const queue = arn.resource;
  attributes['messaging.destination.name'] = queue;
  if (arn.region !== '') attributes['cloud.region'] = arn.region;
  const url = queueUrl(arn);
  if (url !== undefined) {
    // `aws.queue_url` is what the awsxray exporter copies into the segment's `aws.queue_url`.
    attributes['aws.queue_url'] = url;
    attributes['aws.sqs.queue.url'] = url;
  }
  return description('pubsub', 'sqs', `${queue} process`, attributes);
}

function describeSns(records: readonly unknown[], first: Obj): InvocationDescription {
  const sns = obj(first.Sns);
  const attributes: Attributes = {
    'faas.trigger': 'pubsub',
    // Unlike SQS, SNS has the dotted value in both the old and the new attribute.
    'messaging.system': 'aws.sns',
    'messaging.system.name': 'aws.sns',
    ...PROCESS,
  };
  if (records.length === 1) {
    const id = str(sns?.MessageId);
    if (id !== undefined) attributes['messaging.message.id'] = id;
  } else {
    attributes['messaging.batch.message_count'] = records.length;
  }
  const topicArn = str(sns?.TopicArn);
  const arn = parseArn(topicArn);
  if (topicArn === undefined || arn === undefined || arn.resource === '') {
    return description('pubsub', 'sns', undefined, attributes);
  }
  const topic = arn.resource;
  attributes['messaging.destination.name'] = topic;
  attributes['aws.sns.topic.arn'] = topicArn;
  if (arn.region !== '') attributes['cloud.region'] = arn.region;
  return description('pubsub', 'sns', `${topic} process`, attributes);
}

/** The `faas.document.operation` of an S3 event name (`ObjectCreated:Put`, `ObjectRemoved:Delete`...). */
function s3Operation(eventName: string | undefined): string | undefined {
  if (eventName === undefined) return undefined;
  if (eventName.startsWith('ObjectCreated')) return 'insert';
  if (eventName.startsWith('ObjectRemoved') || eventName.startsWith('LifecycleExpiration')) return 'delete';
  // Tagging, ACL, restore, replication, lifecycle transition: the object is changed, not created.
  return 'edit';
}

const PLUS = /\+/g;

/** S3 event keys are form-encoded (`my+photo%281%29.jpg`); a malformed escape keeps the raw key. */
function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(PLUS, ' '));
  } catch {
    return key;
  }
}

function describeS3(records: readonly unknown[], first: Obj): InvocationDescription {
  const s3 = obj(first.s3);
  const bucket = str(obj(s3?.bucket)?.name);
  const operation = s3Operation(str(first.eventName));
  const attributes: Attributes = { 'faas.trigger': 'datasource' };
  if (bucket !== undefined) attributes['faas.document.collection'] = bucket;
  if (operation !== undefined) attributes['faas.document.operation'] = operation;
  // S3 sends one record per notification; with several, no single object or time describes them.
  if (records.length === 1) {
    const key = str(obj(s3?.object)?.key);
    if (key !== undefined) attributes['faas.document.name'] = decodeS3Key(key);
    const time = str(first.eventTime);
    if (time !== undefined) attributes['faas.document.time'] = time;
  }
  const region = str(first.awsRegion);
  if (region !== undefined) attributes['cloud.region'] = region;
  // `<bucket> <operation>`: buckets and the three operations are few, and a notification is one
  // operation, so the name tells uploads from deletions without opening the span.
  const spanName = bucket === undefined ? undefined : `${bucket} ${operation ?? 'process'}`;
  return description('datasource', 's3', spanName, attributes);
}

const DYNAMODB_OPERATIONS: Readonly<Record<string, string>> = {
  INSERT: 'insert',
  MODIFY: 'edit',
  REMOVE: 'delete',
};

/** `table/NAME/stream/LABEL` → NAME. */
function tableOf(arn: ParsedArn | undefined): string | undefined {
  if (arn === undefined || !arn.resource.startsWith('table/')) return undefined;
  const end = arn.resource.indexOf('/', 6);
  return str(end === -1 ? arn.resource.slice(6) : arn.resource.slice(6, end));
}

function describeDynamoDb(records: readonly unknown[], first: Obj): InvocationDescription {
  const arn = parseArn(sharedSourceArn(records, first));
  const table = tableOf(arn);
  const attributes: Attributes = { 'faas.trigger': 'datasource' };
  // One operation for the batch only when every record agrees; a mixed batch has none.
  const firstName = str(first.eventName);
  let operation = firstName === undefined ? undefined : DYNAMODB_OPERATIONS[firstName];
  for (let i = 1; i < records.length && operation !== undefined; i++) {
    if (obj(records[i])?.eventName !== firstName) operation = undefined;
  }
  if (table !== undefined) {
    attributes['faas.document.collection'] = table;
    // Read by the awsxray exporter into the segment's `aws.table_name`.
    attributes['aws.dynamodb.table_names'] = [table];
  }
  if (operation !== undefined) attributes['faas.document.operation'] = operation;
  if (arn !== undefined && arn.region !== '') attributes['cloud.region'] = arn.region;
  // `process`, not the operation: a stream batch usually mixes inserts, edits and deletions.
  return description('datasource', 'dynamodb-stream', table && `${table} process`, attributes);
}

/** `stream/NAME` (or `stream/NAME/consumer/...`) → NAME. */
function streamOf(arn: ParsedArn | undefined): string | undefined {
  if (arn === undefined || !arn.resource.startsWith('stream/')) return undefined;
  const end = arn.resource.indexOf('/', 7);
  return str(end === -1 ? arn.resource.slice(7) : arn.resource.slice(7, end));
}

function describeKinesis(records: readonly unknown[], first: Obj): InvocationDescription {
  const arn = parseArn(sharedSourceArn(records, first));
  const stream = streamOf(arn);
  // Records are only ever appended to a stream.
  const attributes: Attributes = { 'faas.trigger': 'datasource', 'faas.document.operation': 'insert' };
  if (stream !== undefined) {
    attributes['faas.document.collection'] = stream;
    attributes['aws.kinesis.stream_name'] = stream;
  }
  if (arn !== undefined && arn.region !== '') attributes['cloud.region'] = arn.region;
  return description('datasource', 'kinesis', stream && `${stream} process`, attributes);
}
