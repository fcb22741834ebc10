import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OtlpReceiver } from '../../helpers/otlp-receiver.js';

const SECRET = 'sk_live_do_not_export_me';

/** Two finished spans (parent + child) from a real SDK, ready to hand to an exporter. */
function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receiver-test', 'cloud.provider': 'aws' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('receiver-test-scope', '1.2.3');
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER });
  parent.setAttributes({
    str: 'v',
    int: 42,
    big: 2 ** 40,
    dbl: 1.5,
    bool: true,
    arr: ['a', 'b'],
    secret: SECRET,
  });
  parent.addEvent('something', { detail: 'x' });
  parent.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' });
  const child = tracer.startSpan(
    'child',
    { kind: SpanKind.CLIENT, links: [{ context: parent.spanContext(), attributes: { why: 'linked' } }] },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.end();
  parent.end();
  return memory.getFinishedSpans();
}

function exportOnce(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

describe('OtlpReceiver', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await OtlpReceiver.start();
  });
  after(() => receiver.close());

  it('decodes what the real OTLP/gRPC exporter sends', async () => {
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    const sent = makeSpans();
    const result = await exportOnce(exporter, sent);
    await exporter.shutdown();
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));

    const spans = await receiver.waitForSpans((s) => s.length === 2, 2000);
    const parent = spans.find((s) => s.name === 'parent');
    const child = spans.find((s) => s.name === 'child');
    assert.ok(parent && child);
    assert.match(parent.traceId, /^[0-9a-f]{32}$/);
    assert.equal(parent.traceId, sent[0]?.spanContext().traceId);
    assert.equal(parent.parentSpanId, '');
    assert.equal(child.parentSpanId, parent.spanId);
    assert.equal(child.traceId, parent.traceId);
    assert.equal(parent.kind, 2);
    assert.equal(child.kind, 3);
    assert.equal(typeof parent.startTimeUnixNano, 'bigint');
    assert.ok(parent.endTimeUnixNano >= parent.startTimeUnixNano);
    assert.ok(parent.startTimeUnixNano > 1_600_000_000_000_000_000n, 'nanosecond precision kept');
    assert.deepEqual(parent.attributes, {
      str: 'v',
      int: 42,
      big: 2 ** 40,
      dbl: 1.5,
      bool: true,
      arr: ['a', 'b'],
      secret: SECRET,
    });
    assert.equal(parent.resource['service.name'], 'receiver-test');
    assert.equal(parent.scope, 'receiver-test-scope');
    assert.deepEqual(parent.status, { code: 2, message: 'bad' });
    assert.deepEqual(
      parent.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      [{ name: 'something', attributes: { detail: 'x' } }],
    );
    assert.deepEqual(child.links, [
      { traceId: parent.traceId, spanId: parent.spanId, attributes: { why: 'linked' } },
    ]);
    assert.equal(receiver.exportCount, 1);
    assert.ok(receiver.payloadIncludes(SECRET));
    assert.ok(receiver.rawPayloads.some((p) => p.includes(SECRET)));
    assert.match(receiver.exports[0]?.metadata['user-agent'] ?? '', /OTel-OTLP-Exporter-JavaScript/);
  });

  it('rejects waitForSpans with what did arrive', async () => {
    await assert.rejects(
      receiver.waitForSpans((s) => s.some((span) => span.name === 'never'), 50),
      /timed out after 50 ms[\s\S]*parent \(kind 2/,
    );
  });

  it('clear() forgets everything', () => {
    receiver.clear();
    assert.equal(receiver.spans.length, 0);
    assert.equal(receiver.exportCount, 0);
  });
});

describe('OtlpReceiver failure modes', () => {
  it('hang: accepts the call and never answers, so the exporter times out', async () => {
    const receiver = await OtlpReceiver.start({ hang: true });
    try {
      const exporter = new OTLPTraceExporter({ url: receiver.endpoint, timeoutMillis: 300 });
      const started = Date.now();
      const result = await exportOnce(exporter, makeSpans());
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.ok(Date.now() - started >= 250, 'failed by the exporter deadline, not by the receiver');
      assert.ok(receiver.exportCount >= 1, 'the request did arrive');
      await exporter.shutdown();
    } finally {
      await receiver.close();
    }
  });

  it('failWith: answers with a gRPC error', async () => {
    const receiver = await OtlpReceiver.start({
      failWith: { code: grpc.status.PERMISSION_DENIED, details: 'nope' },
    });
    try {
      const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
      const result = await exportOnce(exporter, makeSpans());
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(String(result.error), /nope|PERMISSION_DENIED|7/);
      await exporter.shutdown();
    } finally {
      await receiver.close();
    }
  });
});
