import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createAwsSdkInstrumentation } from '../../../src/instrumentations/aws-sdk.js';
import { FAKE_CREDENTIALS, type LocalService, REGION, startLocalSqs } from '../../helpers/aws-local.js';

// OTEL_PROPAGATORS=none: calls are traced, messages go out exactly as the user wrote them.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({
  instrumentations: createAwsSdkInstrumentation({ propagators: [] }),
  tracerProvider: provider,
});
const SQS = await import('@aws-sdk/client-sqs');

let server: LocalService;
before(async () => {
  server = await startLocalSqs();
});
after(() => server.close());

test('with no propagators, SQS sends are traced but carry no trace context', async () => {
  const client = new SQS.SQSClient({
    endpoint: server.endpoint,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
  });
  try {
    const { QueueUrl } = await client.send(new SQS.CreateQueueCommand({ QueueName: 'quiet' }));
    await trace.getTracer('test').startActiveSpan('work', async (span) => {
      await client.send(new SQS.SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
      span.end();
    });
    const send = exporter.getFinishedSpans().find((s) => s.attributes['rpc.method'] === 'SendMessage');
    assert.ok(send, 'the send was not traced');
    const { Messages } = await client.send(
      new SQS.ReceiveMessageCommand({ QueueUrl, AttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    );
    assert.equal(Messages?.length, 1);
    assert.equal(Messages?.[0]?.Attributes?.AWSTraceHeader, undefined);
    assert.equal(Messages?.[0]?.MessageAttributes, undefined);
  } finally {
    client.destroy();
  }
});
