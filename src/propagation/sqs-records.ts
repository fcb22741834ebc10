import {
  type Attributes,
  context,
  type Link,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { sqsMessageCarriers } from '../lambda/triggers/carriers.js';
import { contextFromCarrier, type MessageCarrierLike } from './message-context.js';
import { snsEnvelopeCarrier } from './sns-envelope.js';

/**
 * The fields of one record of a Lambda SQS event this module reads, as AWS documents them
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). Declared here so that users need
 * not depend on `@types/aws-lambda`; its `SQSRecord` is assignable to it.
 */
export interface SqsRecord {
  readonly messageId: string;
  readonly body?: string;
  /** System attributes; `AWSTraceHeader` is the sender's X-Ray context. */
  readonly attributes?: { readonly AWSTraceHeader?: string; readonly [name: string]: string | undefined };
  readonly messageAttributes?: {
    readonly [name: string]: { readonly stringValue?: string; readonly dataType?: string } | undefined;
  };
  readonly eventSource?: string;
  readonly eventSourceARN?: string;
  readonly awsRegion?: string;
}

/** A Lambda SQS event, or any object with its `Records`. */
export interface SqsEvent<R extends SqsRecord = SqsRecord> {
  readonly Records: readonly R[];
}

/**
 * What a function with `ReportBatchItemFailures` returns: the records to retry. Returning it
 * unchanged makes Lambda delete the other messages only.
 */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** How {@link forEachSqsRecord} processes a batch. */
export interface ForEachSqsRecordOptions {
  /**
   * Stop at the first failed record and report it and every later one as failed, without running
   * them: what FIFO queues need to keep their order. Default: true when the event comes from a
   * `.fifo` queue, false otherwise.
   */
  readonly stopOnFailure?: boolean;
  /** The tracer for the record spans. Default: the global tracer provider's `otel-lambda-xray` tracer. */
  readonly tracer?: Tracer;
}

const TRACER_NAME = 'otel-lambda-xray';

/**
 * Runs `handler` for each record of an SQS event, one after the other, each in its own
 * `<queue> process` span that continues the trace of the message's producer: its parent is the
 * span that sent the message (from `AWSTraceHeader`, else the `traceparent` message attribute), and
 * it links to the invocation. A message with no trace context gets a span under the invocation,
 * and so does one whose producer's trace was not sampled while the invocation's is (linked to the
 * producer instead), so that the work is recorded somewhere. SNS messages delivered to SQS without
 * raw delivery are read from the SNS envelope in the body.
 *
 * A record whose handler throws or rejects is marked failed on its span and listed in the
 * returned `batchItemFailures`; the other records still run (on FIFO queues, the later records are
 * reported failed without running, see {@link ForEachSqsRecordOptions.stopOnFailure}). The
 * function never throws itself.
 *
 * @example
 * ```ts
 * import { forEachSqsRecord } from 'otel-lambda-xray';
 *
 * // With ReportBatchItemFailures on the event source mapping, only failed messages come back.
 * export const handler = async (event) =>
 *   forEachSqsRecord(event, async (record) => {
 *     const order = JSON.parse(record.body ?? '{}');
 *     await saveOrder(order); // its spans join the producer's trace
 *   });
 * ```
 */
export async function forEachSqsRecord<R extends SqsRecord>(
  event: SqsEvent<R>,
  handler: (record: R, index: number) => unknown,
  options: ForEachSqsRecordOptions = {},
): Promise<SqsBatchResponse> {
  const records: readonly R[] = Array.isArray(event?.Records) ? event.Records : [];
  // One carrier per record, in order (the same reader the invocation's links come from).
  const carriers = sqsMessageCarriers(event, records.length);
  const first = records[0];
  const queue = first === undefined ? undefined : afterLastColon(first.eventSourceARN);
  const failed = await processEach(records, handler, {
    tracer: options.tracer,
    stopOnFailure: options.stopOnFailure ?? isFifo(first?.eventSourceARN),
    carrierOf: (record, index) => withEnvelope(carriers[index], record.body),
    idOf: (record) => record.messageId,
    queueOf: (record) => afterLastColon(record.eventSourceARN) ?? queue,
  });
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * A message as SQS `ReceiveMessage` returns it. With the layer, `ReceiveMessage` asks for
 * `AWSTraceHeader` itself; `MessageAttributeNames` must include the trace attributes (or `All`)
 * for them to come back.
 */
export interface SqsMessage {
  readonly MessageId?: string;
  readonly Body?: string;
  readonly Attributes?: { readonly [name: string]: string | undefined };
  readonly MessageAttributes?: {
    readonly [name: string]: { readonly StringValue?: string; readonly DataType?: string } | undefined;
  };
}

/** How {@link forEachSqsMessage} processes messages. */
export interface ForEachSqsMessageOptions extends ForEachSqsRecordOptions {
  /** The queue the messages came from, for span names and attributes. */
  readonly queueUrl?: string;
}

/**
 * The same as {@link forEachSqsRecord} for messages a poller received itself with
 * `ReceiveMessage` (outside Lambda, or from inside a function): each message is handled in a
 * `<queue> process` span parented to the message's producer and linked to the span that was
 * active (the poll loop's, or the invocation). Returns the IDs of the messages whose handler
 * failed: delete the others.
 *
 * @example
 * ```ts
 * import { forEachSqsMessage } from 'otel-lambda-xray';
 *
 * const { Messages = [] } = await sqs.send(
 *   new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], MaxNumberOfMessages: 10 }),
 * );
 * const failed = await forEachSqsMessage(Messages, (message) => handle(message), { queueUrl: QueueUrl });
 * ```
 */
export async function forEachSqsMessage<M extends SqsMessage>(
  messages: readonly M[] | undefined,
  handler: (message: M, index: number) => unknown,
  options: ForEachSqsMessageOptions = {},
): Promise<string[]> {
  const list: readonly M[] = Array.isArray(messages) ? messages : [];
  const queue = options.queueUrl === undefined ? undefined : afterLastSlash(options.queueUrl);
  return processEach(list, handler, {
    tracer: options.tracer,
    stopOnFailure: options.stopOnFailure ?? queue?.endsWith('.fifo') ?? false,
    carrierOf: (message) => withEnvelope(messageCarrier(message), message.Body),
    idOf: (message) => message.MessageId ?? '',
    queueOf: () => queue,
  });
}

/** The message's own carrier, or, when it carries nothing, the SNS envelope's in its body. */
function withEnvelope(
  carrier: MessageCarrierLike | undefined,
  body: string | undefined,
): MessageCarrierLike | undefined {
  const empty =
    carrier === undefined || (carrier.xrayHeader === undefined && Object.keys(carrier.headers).length === 0);
  return empty ? (snsEnvelopeCarrier(body) ?? carrier) : carrier;
}

function messageCarrier(message: SqsMessage): MessageCarrierLike {
  // Both, always (a received batch holds at most 10 messages): the X-Ray header wins when it names
  // a valid context, and a `traceparent` beside it still counts when it does not.
  const xrayHeader = message.Attributes?.AWSTraceHeader;
  const headers = traceHeadersOf(message);
  return typeof xrayHeader === 'string' && xrayHeader !== '' ? { xrayHeader, headers } : { headers };
}

function traceHeadersOf(message: SqsMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    const lower = name.toLowerCase();
    if (TRACE_ATTRIBUTES.has(lower) && typeof value?.StringValue === 'string')
      headers[lower] = value.StringValue;
  }
  return headers;
}

const TRACE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'traceparent',
  'tracestate',
  'baggage',
  'x-amzn-trace-id',
]);

interface ProcessOptions<T> {
  readonly tracer: Tracer | undefined;
  readonly stopOnFailure: boolean;
  readonly carrierOf: (item: T, index: number) => MessageCarrierLike | undefined;
  readonly idOf: (item: T) => string;
  readonly queueOf: (item: T) => string | undefined;
}

/** Runs `handler` on each item in its own span; returns the IDs of the items that failed. */
async function processEach<T>(
  items: readonly T[],
  handler: (item: T, index: number) => unknown,
  options: ProcessOptions<T>,
): Promise<string[]> {
  const failures: string[] = [];
  const tracer = options.tracer ?? trace.getTracer(TRACER_NAME);
  const active = context.active();
  const activeSpan = trace.getSpanContext(active);
  let failed = false;
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as T;
    if (failed && options.stopOnFailure) {
      failures.push(options.idOf(item));
      continue;
    }
    const carrier = options.carrierOf(item, index);
    const producer = carrier === undefined ? undefined : contextFromCarrier(carrier);
    const producerSpan = producer === undefined ? undefined : trace.getSpanContext(producer);
    // Continue the producer's trace, unless the producer's trace was not sampled while this one is:
    // the work would then be recorded nowhere, so it stays under the invocation and links back.
    const continues =
      producer !== undefined &&
      producerSpan !== undefined &&
      (isSampled(producerSpan) || activeSpan === undefined || !isSampled(activeSpan));
    const parent = continues ? producer : active;
    const linkTo = continues ? activeSpan : producerSpan;
    const links: Link[] = linkTo === undefined ? [] : [{ context: linkTo }];
    const queue = options.queueOf(item);
    const span = tracer.startSpan(
      queue === undefined ? 'process' : `${queue} process`,
      { kind: SpanKind.CONSUMER, attributes: processAttributes(options.idOf(item), queue), links },
      parent,
    );
    try {
      // The item's work runs with its span active, so its spans are the item's children; the
      // invocation (or poll loop) stays reachable through the link.
      await context.with(trace.setSpan(parent, span), () => handler(item, index));
    } catch (error) {
      failed = true;
      failures.push(options.idOf(item));
      if (error instanceof Error) span.recordException(error);
      else span.recordException(String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
    } finally {
      span.end();
    }
  }
  return failures;
}

function isFifo(arn: string | undefined): boolean {
  return typeof arn === 'string' && arn.endsWith('.fifo');
}

function isSampled(spanContext: SpanContext): boolean {
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

function afterLastColon(arn: string | undefined): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const name = arn.slice(arn.lastIndexOf(':') + 1);
  return name === '' ? undefined : name;
}

function afterLastSlash(url: string): string | undefined {
  const name = url.slice(url.lastIndexOf('/') + 1);
  return name === '' ? undefined : name;
}

function processAttributes(messageId: string, queue: string | undefined): Attributes {
  const attributes: Attributes = {
    // The same pair as the invocation span: the deprecated name the Lambda conventions still use.
    'messaging.system': 'aws_sqs',
    'messaging.system.name': 'aws.sqs',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
  };
  if (messageId !== '') attributes['messaging.message.id'] = messageId;
  if (queue !== undefined) attributes['messaging.destination.name'] = queue;
  return attributes;
}
