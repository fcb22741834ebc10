import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { forEachSqsMessage } from '../../../src/index.js';
import { createAwsSdkInstrumentation } from '../../../src/instrumentations/aws-sdk.js';
import { FAKE_CREDENTIALS, type LocalService, REGION, startLocalSqs } from '../../helpers/aws-local.js';

/*
 * The instrumentation in this process, against local SQS on 127.0.0.1: the SDK is imported only
 * after the instrumentation is enabled, as the layer's bootstrap orders it.
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({
  idGenerator: new AWSXRayIdGenerator(),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
provider.register({
  propagator: new CompositePropagator({
    propagators: [new AWSXRayPropagator(), new W3CTraceContextPropagator()],
  }),
});
registerInstrumentations({
  instrumentations: createAwsSdkInstrumentation({ propagators: ['xray', 'tracecontext'] }),
  tracerProvider: provider,
});
const SQS = await import('@aws-sdk/client-sqs');

describe('AWS SDK instrumentation against local SQS', () => {
  let server: LocalService;
  let client: InstanceType<typeof SQS.SQSClient>;
  let queueUrl: string;
  const tracer = trace.getTracer('test');

  before(async () => {
    server = await startLocalSqs();
    client = new SQS.SQSClient({ endpoint: server.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    queueUrl = (await client.send(new SQS.CreateQueueCommand({ QueueName: 'polled' }))).QueueUrl as string;
  });
  after(async () => {
    client.destroy();
    await server.close();
  });

  test('polling: the receive span links to each sender, and forEachSqsMessage continues its trace', async () => {
    // Ten user attributes leave no room for traceparent: only AWSTraceHeader carries the context.
    const full = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: `${i}` }]),
    );
    const input = { QueueUrl: queueUrl, MessageBody: 'hello', MessageAttributes: full };
    await tracer.startActiveSpan('producer-work', async (span) => {
      await client.send(new SQS.SendMessageCommand(input));
      span.end();
    });
    assert.equal(Object.keys(input.MessageAttributes).length, 10, "the user's attribute map changed");
    const send = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'SendMessage');
    assert.ok(send);
    assert.equal(send.kind, SpanKind.PRODUCER);

    const receiveInput = {
      QueueUrl: queueUrl,
      AttributeNames: ['All' as const],
      MessageAttributeNames: ['All'],
    };
    const poll = tracer.startSpan('poll-loop');
    const received = await context.with(trace.setSpan(context.active(), poll), async () => {
      const out = await client.send(new SQS.ReceiveMessageCommand(receiveInput));
      const handled: string[] = [];
      const failed = await forEachSqsMessage(
        out.Messages,
        (message) => {
          handled.push(`${message.Body}:${trace.getActiveSpan()?.spanContext().traceId}`);
        },
        { queueUrl },
      );
      return { out, handled, failed };
    });
    poll.end();
    assert.deepEqual(received.failed, []);
    assert.deepEqual(received.handled, [`hello:${send.spanContext().traceId}`]);
    // The layer asks for AWSTraceHeader without touching what the caller asked for.
    assert.deepEqual(receiveInput.AttributeNames, ['All']);

    const receive = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'ReceiveMessage');
    assert.ok(receive);
    assert.equal(receive.kind, SpanKind.CONSUMER);
    assert.equal(receive.name, 'polled receive');
    assert.deepEqual(
      receive.links.map((l) => l.context.spanId),
      [send.spanContext().spanId],
    );
    const processed = exporter.getFinishedSpans().find((s) => s.name === 'polled process');
    assert.ok(processed);
    assert.equal(processed.parentSpanContext?.spanId, send.spanContext().spanId);
    assert.deepEqual(
      processed.links.map((l) => l.context.spanId),
      [poll.spanContext().spanId],
    );
  });

  test('a failed call: ERROR span with error.type, the HTTP status and aws.request_id; the error reaches the caller unchanged', async () => {
    exporter.reset();
    const missing = `${server.endpoint}/123456789012/no-such-queue`;
    const error = await client.send(new SQS.SendMessageCommand({ QueueUrl: missing, MessageBody: 'x' })).then(
      () => undefined,
      (e: unknown) => e as Error & { $metadata: { httpStatusCode: number; requestId?: string } },
    );
    assert.ok(error, 'the send did not fail');
    assert.match(error.name, /QueueDoesNotExist|NonExistentQueue/);
    const span = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'SendMessage');
    assert.ok(span);
    assert.equal(span.status.code, 2);
    assert.equal(span.attributes['error.type'], error.name);
    assert.equal(span.attributes['http.response.status_code'], error.$metadata.httpStatusCode);
    assert.equal(span.attributes['aws.queue_url'], missing);
    assert.ok(error.$metadata.requestId, 'local SQS sent no request ID');
    assert.equal(span.attributes['aws.request_id'], error.$metadata.requestId);
    assert.equal(span.attributes['aws.throttled'], undefined);
    assert.ok(span.events.some((e) => e.name === 'exception'));
  });

  test("the X-Amzn-Trace-Id request header names the call's span", async () => {
    const { createServer } = await import('node:http');
    // A local endpoint that records the header and answers like SQS's JSON protocol.
    let header: string | undefined;
    const recorder = createServer((req, res) => {
      header = req.headers['x-amzn-trace-id'] as string | undefined;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ QueueUrls: [] }));
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const port = (recorder.address() as { port: number }).port;
    const local = new SQS.SQSClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: REGION,
      credentials: FAKE_CREDENTIALS,
    });
    try {
      exporter.reset();
      await local.send(new SQS.ListQueuesCommand({}));
      const span = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'ListQueues');
      assert.ok(span);
      const { traceId, spanId } = span.spanContext();
      assert.equal(header, `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanId};Sampled=1`);
    } finally {
      local.destroy();
      recorder.close();
    }
  });

  test('SNS Publish: traceparent joins the user attributes, X-Amzn-Trace-Id names the Publish span', async () => {
    // No SNS can run here: this endpoint records the request as SNS would receive it (query
    // protocol, form-encoded) and answers as SNS does.
    const { createServer } = await import('node:http');
    const SNS = await import('@aws-sdk/client-sns');
    let body = '';
    let header: string | undefined;
    const recorder = createServer((req, res) => {
      header = req.headers['x-amzn-trace-id'] as string | undefined;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        body = Buffer.concat(chunks).toString('utf8');
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': 'sns-req-1' });
        res.end(
          '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>sns-req-1</RequestId></ResponseMetadata></PublishResponse>',
        );
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const port = (recorder.address() as { port: number }).port;
    const sns = new SNS.SNSClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: REGION,
      credentials: FAKE_CREDENTIALS,
    });
    try {
      exporter.reset();
      const topic = 'arn:aws:sns:us-east-1:123456789012:orders';
      await sns.send(
        new SNS.PublishCommand({
          TopicArn: topic,
          Message: 'hi',
          MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
        }),
      );
      const span = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'Publish');
      assert.ok(span);
      assert.equal(span.kind, SpanKind.PRODUCER);
      assert.equal(span.attributes['aws.sns.topic.arn'], topic);
      assert.equal(span.attributes['aws.request_id'], 'sns-req-1');
      const { traceId, spanId } = span.spanContext();
      const form = new URLSearchParams(body);
      const attributes = new Map<string, string | null>();
      for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
        attributes.set(
          form.get(`MessageAttributes.entry.${i}.Name`) as string,
          form.get(`MessageAttributes.entry.${i}.Value.StringValue`),
        );
      }
      assert.deepEqual(Object.fromEntries(attributes), {
        tenant: 'acme',
        traceparent: `00-${traceId}-${spanId}-01`,
      });
      assert.equal(header, `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanId};Sampled=1`);
    } finally {
      sns.destroy();
      recorder.close();
    }
  });
});
