import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  FAKE_CREDENTIALS,
  type LocalService,
  REGION,
  type ReceivedMessage,
  sqsEventFromMessages,
  startAwsFunction,
  startDynalite,
  startLocalSqs,
} from '../helpers/aws-local.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { traceHeader } from '../helpers/traced-function.js';

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;
const CLIENT = 3;
const XRAY_HEADER = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=1$/;

function find(spans: ReceivedSpan[], what: string, predicate: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const span = spans.find(predicate);
  assert.ok(span, `no ${what}; got ${spans.map((s) => `${s.name}/${s.kind}/${s.traceId}`).join(', ')}`);
  return span;
}

/** The trace ID and parent span ID an X-Ray header names. */
function parseXrayHeader(header: string | undefined): { traceId: string; parentId: string } {
  const match = XRAY_HEADER.exec(header ?? '');
  assert.ok(match, `not an X-Ray header of a sampled span: ${header}`);
  return { traceId: `${match[1]}${match[2]}`, parentId: match[3] as string };
}

/**
 * One trace across SQS, through the built layer on nodejs24.x: a CommonJS producer sends, the
 * test reads the message back from local SQS and hands it to an ESM consumer as the Lambda SQS
 * event source mapping would, and the consumer writes to DynamoDB (dynalite). All on 127.0.0.1.
 */
describe('AWS SDK and SQS messages through the layer (nodejs24.x)', () => {
  let receiver: OtlpReceiver;
  let sqsServer: LocalService;
  let dynamoServer: LocalService;
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  let producer: Awaited<ReturnType<typeof startAwsFunction>>;
  let consumer: Awaited<ReturnType<typeof startAwsFunction>>;
  const table = `orders-${randomUUID().slice(0, 8)}`;

  before(async () => {
    [receiver, sqsServer, dynamoServer] = await Promise.all([
      OtlpReceiver.start(),
      startLocalSqs(),
      startDynalite(),
    ]);
    sqs = new SQSClient({ endpoint: sqsServer.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    dynamodb = new DynamoDBClient({
      endpoint: dynamoServer.endpoint,
      region: REGION,
      credentials: FAKE_CREDENTIALS,
    });
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoServer.endpoint,
      TABLE_NAME: table,
    };
    [producer, consumer] = await Promise.all([
      startAwsFunction({
        runtime: 'nodejs24.x',
        fixture: 'aws-producer',
        functionName: 'orders-producer',
        env,
      }),
      startAwsFunction({
        runtime: 'nodejs24.x',
        fixture: 'aws-consumer',
        handler: 'index.handler',
        functionName: 'orders-consumer',
        env,
      }),
    ]);
  });

  after(async () => {
    await Promise.all([producer?.cleanup(), consumer?.cleanup()]);
    sqs?.destroy();
    dynamodb?.destroy();
    await Promise.all([receiver?.close(), sqsServer?.close(), dynamoServer?.close()]);
  });

  async function createQueue(): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `orders-${randomUUID().slice(0, 8)}` }),
    );
    assert.ok(QueueUrl);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn as string };
  }

  async function receiveAll(queueUrl: string, count: number): Promise<ReceivedMessage[]> {
    const messages: ReceivedMessage[] = [];
    while (messages.length < count) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          // local-aws-sqs returns AWSTraceHeader for 'All' only (it ignores MessageSystemAttributeNames).
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      assert.ok(out.Messages?.length, `only ${messages.length} of ${count} messages arrived`);
      messages.push(...(out.Messages as ReceivedMessage[]));
    }
    return messages;
  }

  test('producer -> SQS -> consumer -> DynamoDB reads as one trace, the invocation linked to the send', async () => {
    const queue = await createQueue();
    const sent = traceHeader(true);
    const send = await producer.invoke(
      { action: 'send', queueUrl: queue.url, body: { id: 'order-1' } },
      { traceHeader: sent.header },
    );
    assert.equal(send.status, 'success', producer.output());

    // The producer's SQS call: a PRODUCER span under the invocation, with what X-Ray's aws block reads.
    const producerInvocation = find(
      receiver.spans,
      'producer invocation',
      (s) => s.traceId === sent.traceId && s.kind === SERVER,
    );
    const sendSpan = find(
      receiver.spans,
      'send span',
      (s) => s.traceId === sent.traceId && s.kind === PRODUCER,
    );
    assert.equal(sendSpan.parentSpanId, producerInvocation.spanId);
    assert.equal(sendSpan.attributes['rpc.system'], 'aws-api');
    assert.equal(sendSpan.attributes['rpc.service'], 'SQS');
    assert.equal(sendSpan.attributes['rpc.method'], 'SendMessage');
    assert.equal(sendSpan.attributes['aws.region'], REGION);
    assert.equal(sendSpan.attributes['aws.queue_url'], queue.url);
    assert.equal(sendSpan.attributes['messaging.url'], queue.url);
    assert.match(String(sendSpan.attributes['aws.request_id']), /^[0-9a-f-]{36}$/);
    assert.equal(sendSpan.attributes['http.response.status_code'], 200);
    assert.equal(
      sendSpan.attributes['messaging.message.id'],
      (send.payload as { messageId: string }).messageId,
    );

    // The message carries the send span's context: in AWSTraceHeader, and as traceparent (it had room).
    const [message] = await receiveAll(queue.url, 1);
    assert.ok(message);
    const carried = parseXrayHeader(message.Attributes?.AWSTraceHeader);
    assert.deepEqual(carried, { traceId: sent.traceId, parentId: sendSpan.spanId });
    assert.equal(
      message.MessageAttributes?.traceparent?.StringValue,
      `00-${sent.traceId}-${sendSpan.spanId}-01`,
    );
    assert.equal(
      message.MessageAttributes?.['x-amzn-trace-id'],
      undefined,
      'the X-Ray header wasted an attribute slot',
    );

    // The consumer runs in Lambda's own trace for it; its invocation links to the producer's span,
    // and the per-record span (the public helper) continues the producer's trace.
    const consumed = traceHeader(true);
    const event = sqsEventFromMessages([message], queue.arn);
    const run = await consumer.invoke(event, { traceHeader: consumed.header });
    assert.equal(run.status, 'success', consumer.output());
    assert.deepEqual(run.payload, { batchItemFailures: [] });

    const invocation = find(
      receiver.spans,
      'consumer invocation',
      (s) => s.traceId === consumed.traceId && s.kind === SERVER,
    );
    assert.equal(invocation.attributes['faas.trigger'], 'pubsub');
    assert.deepEqual(
      invocation.links.map((l) => [l.traceId, l.spanId]),
      [[sent.traceId, sendSpan.spanId]],
    );
    const recordSpan = find(
      receiver.spans,
      'record span',
      (s) => s.kind === CONSUMER && s.parentSpanId === sendSpan.spanId,
    );
    assert.equal(recordSpan.traceId, sent.traceId);
    assert.equal(recordSpan.name, `${queue.arn.split(':')[5]} process`);
    assert.equal(recordSpan.attributes['messaging.message.id'], message.MessageId);
    assert.deepEqual(
      recordSpan.links.map((l) => [l.traceId, l.spanId]),
      [[consumed.traceId, invocation.spanId]],
    );
    const put = find(receiver.spans, 'DynamoDB span', (s) => s.parentSpanId === recordSpan.spanId);
    assert.equal(put.name, 'DynamoDB.PutItem');
    assert.equal(put.kind, CLIENT);
    assert.equal(put.traceId, sent.traceId);
    assert.deepEqual(put.attributes['aws.dynamodb.table_names'], [table]);
    assert.equal(put.attributes['rpc.service'], 'DynamoDB');
    assert.equal(put.attributes['rpc.method'], 'PutItem');
    assert.equal(put.attributes['aws.region'], REGION);
    assert.ok(put.attributes['aws.request_id'], 'no aws.request_id on the DynamoDB span');

    // And the write happened.
    const item = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'order-1' } } }));
    assert.equal(item.Item?.messageId?.S, message.MessageId);
  });

  test('a batch of 10 whose entries carry 9 and 10 attributes: all sent, all traced, nothing of the user lost', async () => {
    const queue = await createQueue();
    const userAttributes = (id: number, count: number) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
          `attr${i}`,
          { DataType: 'String', StringValue: `m${id}-v${i}` },
        ]),
      );
    const userHeader = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const entries = Array.from({ length: 10 }, (_, id) => ({
      Id: `m${id}`,
      MessageBody: JSON.stringify({ id: `batch-${id}`, moduleClient: true }),
      MessageAttributes: userAttributes(id, id % 2 === 0 ? 9 : 10),
      // One entry brings its own AWSTraceHeader: it must be kept as it is.
      ...(id === 3
        ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: userHeader } } }
        : {}),
    }));
    const sent = traceHeader(true);
    // A client created inside the handler this time.
    const result = await producer.invoke(
      { action: 'send-batch', queueUrl: queue.url, entries, freshClient: true },
      { traceHeader: sent.header },
    );
    assert.equal(result.status, 'success', producer.output());
    assert.deepEqual(result.payload, { successful: 10, failed: [] });

    const sendSpan = find(
      receiver.spans,
      'batch send span',
      (s) => s.traceId === sent.traceId && s.kind === PRODUCER,
    );
    assert.equal(sendSpan.attributes['rpc.method'], 'SendMessageBatch');

    const messages = await receiveAll(queue.url, 10);
    const byId = new Map(messages.map((m) => [JSON.parse(m.Body as string).id as string, m]));
    for (let id = 0; id < 10; id++) {
      const message = byId.get(`batch-${id}`);
      assert.ok(message, `message ${id} missing`);
      const attributes = message.MessageAttributes ?? {};
      const userCount = id % 2 === 0 ? 9 : 10;
      for (let i = 0; i < userCount; i++) {
        assert.equal(attributes[`attr${i}`]?.StringValue, `m${id}-v${i}`, `message ${id} lost attr${i}`);
      }
      assert.ok(Object.keys(attributes).length <= 10);
      if (id === 3) {
        assert.equal(
          message.Attributes?.AWSTraceHeader,
          userHeader,
          "the user's AWSTraceHeader was replaced",
        );
      } else {
        assert.deepEqual(parseXrayHeader(message.Attributes?.AWSTraceHeader), {
          traceId: sent.traceId,
          parentId: sendSpan.spanId,
        });
      }
      // 9 user attributes leave room for traceparent; 10 leave none.
      assert.equal(
        attributes.traceparent !== undefined,
        userCount === 9,
        `message ${id}: ${Object.keys(attributes)}`,
      );
    }

    // The whole batch to the consumer (module-load DynamoDB client): one link per distinct producer.
    const consumed = traceHeader(true);
    const run = await consumer.invoke(sqsEventFromMessages(messages, queue.arn), {
      traceHeader: consumed.header,
    });
    assert.equal(run.status, 'success', consumer.output());
    assert.deepEqual(run.payload, { batchItemFailures: [] });
    const invocation = find(
      receiver.spans,
      'batch invocation',
      (s) => s.traceId === consumed.traceId && s.kind === SERVER,
    );
    assert.equal(invocation.attributes['messaging.batch.message_count'], 10);
    assert.deepEqual(
      invocation.links.map((l) => l.spanId).sort(),
      [sendSpan.spanId, '53995c3f42cd8ad8'].sort(),
    );
    const records = receiver.spans.filter((s) => s.kind === CONSUMER && s.parentSpanId === sendSpan.spanId);
    assert.equal(records.length, 9);
    const puts = receiver.spans.filter(
      (s) => s.name === 'DynamoDB.PutItem' && records.some((r) => r.spanId === s.parentSpanId),
    );
    assert.equal(puts.length, 9);
  });

  test('a failing record is reported in batchItemFailures and marked on its span; the others still run', async () => {
    const queue = await createQueue();
    const sent = traceHeader(true);
    await producer.invoke(
      {
        action: 'send-batch',
        queueUrl: queue.url,
        entries: [
          { Id: 'ok', MessageBody: JSON.stringify({ id: 'ok-1' }) },
          { Id: 'bad', MessageBody: JSON.stringify({ id: 'bad-1', fail: true }) },
          { Id: 'ok2', MessageBody: JSON.stringify({ id: 'ok-2' }) },
        ],
      },
      { traceHeader: sent.header },
    );
    const messages = await receiveAll(queue.url, 3);
    const bad = messages.find((m) => m.Body?.includes('bad-1'));
    const run = await consumer.invoke(sqsEventFromMessages(messages, queue.arn), {
      traceHeader: traceHeader(true).header,
    });
    assert.deepEqual(run.payload, { batchItemFailures: [{ itemIdentifier: bad?.MessageId }] });
    const failed = find(
      receiver.spans,
      'failed record span',
      (s) => s.kind === CONSUMER && s.attributes['messaging.message.id'] === bad?.MessageId,
    );
    assert.equal(failed.status.code, 2);
    assert.equal(failed.status.message, 'order bad-1 failed');
    const ok = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'ok-2' } } }));
    assert.ok(ok.Item, 'the record after the failure did not run');
  });
});
