import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { forEachSqsRecord, type SqsRecord } from '../../../src/index.js';
import { registerLayerGlobals, SENDER, SENDER_TRACEPARENT, SENDER_XRAY } from './setup.js';

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer('test') };
}

const record = (id: string, extra: Partial<SqsRecord> = {}): SqsRecord => ({
  messageId: id,
  body: id,
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders',
  attributes: {},
  messageAttributes: {},
  ...extra,
});

describe('forEachSqsRecord', () => {
  before(registerLayerGlobals);

  test('each record runs in its own span, parented to its producer and linked to the invocation', async () => {
    const { exporter, tracer } = setup();
    const invocation = tracer.startSpan('invocation', { kind: SpanKind.SERVER });
    const seen: string[] = [];
    const result = await context.with(trace.setSpan(context.active(), invocation), () =>
      forEachSqsRecord(
        { Records: [record('m1', { attributes: { AWSTraceHeader: SENDER_XRAY } }), record('m2')] },
        (r) => {
          seen.push(`${r.messageId}:${trace.getActiveSpan()?.spanContext().spanId}`);
        },
        { tracer },
      ),
    );
    invocation.end();
    assert.deepEqual(result, { batchItemFailures: [] });
    const [first, second] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER);
    assert.ok(first && second);
    assert.equal(first.name, 'orders process');
    assert.equal(first.spanContext().traceId, SENDER.traceId);
    assert.equal(first.parentSpanContext?.spanId, SENDER.spanId);
    assert.deepEqual(
      first.links.map((l) => l.context.spanId),
      [invocation.spanContext().spanId],
    );
    assert.equal(first.attributes['messaging.message.id'], 'm1');
    assert.equal(first.attributes['messaging.destination.name'], 'orders');
    // No context on the message: a child of the invocation, no link needed.
    assert.equal(second.parentSpanContext?.spanId, invocation.spanContext().spanId);
    assert.deepEqual(second.links, []);
    assert.deepEqual(seen, [`m1:${first.spanContext().spanId}`, `m2:${second.spanContext().spanId}`]);
  });

  test('an unsampled producer under a sampled invocation: the record stays under the invocation, linked back', async () => {
    const { exporter, tracer } = setup();
    const invocation = tracer.startSpan('invocation', { kind: SpanKind.SERVER });
    const unsampled = SENDER_XRAY.replace('Sampled=1', 'Sampled=0');
    await context.with(trace.setSpan(context.active(), invocation), () =>
      forEachSqsRecord({ Records: [record('m1', { attributes: { AWSTraceHeader: unsampled } })] }, () => {}, {
        tracer,
      }),
    );
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.parentSpanContext?.spanId, invocation.spanContext().spanId);
    assert.deepEqual(
      span?.links.map((l) => l.context.spanId),
      [SENDER.spanId],
    );
  });

  test('failures: recorded per record, listed for retry, the rest still run (standard queue)', async () => {
    const { exporter, tracer } = setup();
    const ran: string[] = [];
    const result = await forEachSqsRecord(
      { Records: [record('a'), record('b'), record('c')] },
      async (r) => {
        ran.push(r.messageId);
        if (r.messageId === 'b') throw new RangeError('bad b');
        if (r.messageId === 'c') return Promise.reject('plain c');
      },
      { tracer },
    );
    assert.deepEqual(ran, ['a', 'b', 'c']);
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'c' }] });
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.find((s) => s.attributes['messaging.message.id'] === 'b')?.status.message, 'bad b');
    assert.equal(spans.find((s) => s.attributes['messaging.message.id'] === 'c')?.status.message, 'plain c');
    assert.equal(spans.find((s) => s.attributes['messaging.message.id'] === 'a')?.status.code, 0);
  });

  test('FIFO queues stop at the first failure and report the rest unprocessed, in order', async () => {
    const { tracer } = setup();
    const fifo = (id: string) =>
      record(id, { eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders.fifo' });
    const ran: string[] = [];
    const result = await forEachSqsRecord(
      { Records: [fifo('a'), fifo('b'), fifo('c')] },
      (r) => {
        ran.push(r.messageId);
        if (r.messageId === 'b') throw new Error('stop');
      },
      { tracer },
    );
    assert.deepEqual(ran, ['a', 'b']);
    assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: 'b' }, { itemIdentifier: 'c' }]);
    // And the option overrides the guess.
    const all = await forEachSqsRecord(
      { Records: [fifo('x'), fifo('y')] },
      () => {
        throw new Error('no');
      },
      { tracer, stopOnFailure: false },
    );
    assert.equal(all.batchItemFailures.length, 2);
  });

  test('SNS -> SQS without raw delivery: the trace headers inside the SNS envelope are read', async () => {
    const { exporter, tracer } = setup();
    const envelope = JSON.stringify({
      Type: 'Notification',
      MessageId: 'n1',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders',
      Message: '{"id":1}',
      MessageAttributes: { traceparent: { Type: 'String', Value: SENDER_TRACEPARENT } },
    });
    await forEachSqsRecord({ Records: [record('m1', { body: envelope })] }, () => {}, { tracer });
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.parentSpanContext?.spanId, SENDER.spanId);
    // A body that merely mentions TopicArn is not an envelope.
    exporter.reset();
    await forEachSqsRecord({ Records: [record('m2', { body: '{"TopicArn": 1}' })] }, () => {}, { tracer });
    assert.equal(exporter.getFinishedSpans()[0]?.parentSpanContext, undefined);
  });

  test('an event without records is an empty batch, not an error', async () => {
    assert.deepEqual(await forEachSqsRecord({} as never, () => {}), { batchItemFailures: [] });
    assert.deepEqual(await forEachSqsRecord(null as never, () => {}), { batchItemFailures: [] });
  });
});
