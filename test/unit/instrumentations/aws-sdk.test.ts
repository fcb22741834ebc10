import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '../../../src/config/load-config.js';
import { ExportHealth } from '../../../src/export/export-health.js';
import { forEachSqsMessage } from '../../../src/index.js';
import { createAwsSdkInstrumentation } from '../../../src/instrumentations/aws-sdk.js';
import { InvocationTracer } from '../../../src/lambda/invocation.js';
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

  test("Lambda's Lineage goes on with the AWSTraceHeader and the X-Amzn-Trace-Id the layer writes", async () => {
    // Lambda counts a triggering event's hops in Lineage to stop recursive loops; the headers
    // naming the send's span replace the function's own, so they must carry it on.
    const lambdaHeader =
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1';
    const invocations = new InvocationTracer({
      tracer: provider.getTracer('test'),
      flush: () => undefined,
      config: loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'unit-fn' }).config,
      health: new ExportHealth(),
    });
    const invocation = invocations.start(
      {},
      { xRayTraceId: lambdaHeader, getRemainingTimeInMillis: () => 30_000 },
    );
    const queue = (await client.send(new SQS.CreateQueueCommand({ QueueName: 'lineage' })))
      .QueueUrl as string;
    exporter.reset();
    await context.with(invocation.context, () =>
      client.send(new SQS.SendMessageCommand({ QueueUrl: queue, MessageBody: 'again' })),
    );
    await invocation.finish({ ok: true, result: undefined });
    const send = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'SendMessage');
    assert.ok(send);
    const { traceId, spanId } = send.spanContext();
    assert.equal(traceId, '5759e988bd862e3fe1be46a994272793');
    const received = await client.send(
      new SQS.ReceiveMessageCommand({ QueueUrl: queue, AttributeNames: ['All'] }),
    );
    assert.equal(
      received.Messages?.[0]?.Attributes?.AWSTraceHeader,
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${spanId};Sampled=1;Lineage=a87bd80c:1`,
    );

    // The request header: from the invocation's context, and, outside one, from the header the
    // SDK's recursion detection set from _X_AMZN_TRACE_ID.
    const { createServer } = await import('node:http');
    const headers: (string | undefined)[] = [];
    const recorder = createServer((req, res) => {
      headers.push(req.headers['x-amzn-trace-id'] as string | undefined);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ QueueUrls: [] }));
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const local = new SQS.SQSClient({
      endpoint: `http://127.0.0.1:${(recorder.address() as { port: number }).port}`,
      region: REGION,
      credentials: FAKE_CREDENTIALS,
    });
    const saved = { name: process.env.AWS_LAMBDA_FUNCTION_NAME, header: process.env._X_AMZN_TRACE_ID };
    try {
      exporter.reset();
      await context.with(invocation.context, () => local.send(new SQS.ListQueuesCommand({})));
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'unit-fn';
      process.env._X_AMZN_TRACE_ID = lambdaHeader.replace('a87bd80c:1', 'b1c2d3e4:3');
      await tracer.startActiveSpan('no-invocation', async (span) => {
        await local.send(new SQS.ListQueuesCommand({}));
        span.end();
      });
      const calls = exporter.getFinishedSpans().filter((s) => s.attributes['rpc.method'] === 'ListQueues');
      assert.equal(calls.length, 2);
      const expected = calls.map((call, i) => {
        const ids = call.spanContext();
        const lineage = i === 0 ? 'a87bd80c:1' : 'b1c2d3e4:3';
        return `Root=1-${ids.traceId.slice(0, 8)}-${ids.traceId.slice(8)};Parent=${ids.spanId};Sampled=1;Lineage=${lineage}`;
      });
      assert.deepEqual(headers, expected);
    } finally {
      for (const [name, value] of [
        ['AWS_LAMBDA_FUNCTION_NAME', saved.name],
        ['_X_AMZN_TRACE_ID', saved.header],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
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
