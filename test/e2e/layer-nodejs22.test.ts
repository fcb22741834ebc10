import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startFunction, traceHeader } from '../helpers/traced-function.js';
import { defineLayerSuite } from './layer-suite.js';

defineLayerSuite('nodejs22.x');

// Callback handlers exist only on this generation; nodejs24.x refuses them (see layer-nodejs24).
let receiver: OtlpReceiver;
before(async () => {
  receiver = await OtlpReceiver.start();
});
after(() => receiver.close());

test('nodejs22.x: a callback handler is traced, its result and error passed on', async () => {
  const fn = await startFunction({
    runtime: 'nodejs22.x',
    fixture: 'callback',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
  });
  try {
    const ok = traceHeader(true);
    const r1 = await fn.invoke({}, { traceHeader: ok.header });
    assert.equal(r1.status, 'success', fn.output());
    assert.deepEqual(r1.payload, { ok: true, requestId: r1.requestId });
    const span = receiver.spans.find((s) => s.traceId === ok.traceId && s.kind === 2);
    assert.ok(span, 'no invocation span');
    assert.ok(receiver.spans.some((s) => s.parentSpanId === span.spanId && s.name === 'manual-work'));

    const failing = traceHeader(true);
    const r2 = await fn.invoke({ action: 'throw' }, { traceHeader: failing.header });
    assert.equal(r2.status, 'error');
    assert.equal(r2.error?.errorMessage, 'callback failed');
    const failed = receiver.spans.find((s) => s.traceId === failing.traceId && s.kind === 2);
    assert.equal(failed?.status.code, 2);
  } finally {
    await fn.cleanup();
  }
});

test('nodejs22.x: a handler that never calls back is answered null, its span ended and exported before the freeze', async () => {
  const fn = await startFunction({
    runtime: 'nodejs22.x',
    fixture: 'callback',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
  });
  try {
    const header = traceHeader(true);
    const result = await fn.invoke({ action: 'no-answer' }, { traceHeader: header.header });
    assert.equal(result.status, 'success', fn.output());
    assert.equal(result.payload, null);
    const span = receiver.spans.find((s) => s.traceId === header.traceId && s.kind === 2);
    assert.ok(span, 'the invocation span did not arrive before the freeze');
    assert.notEqual(span.status.code, 2, 'the invocation span is marked failed');
    assert.ok(receiver.spans.some((s) => s.parentSpanId === span.spanId && s.name === 'sync-work'));
  } finally {
    await fn.cleanup();
  }
});

test('nodejs22.x: a callback handler waiting for an empty event loop is not held by an export in flight', async () => {
  // The runtime answers a callback handler only once its event loop is empty
  // (callbackWaitsForEmptyEventLoop): an export still waiting for a silent collector's answer must not
  // keep it busy for the whole export timeout.
  const hanging = await OtlpReceiver.start({ hang: true });
  const fn = await startFunction({
    runtime: 'nodejs22.x',
    fixture: 'callback',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: hanging.endpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '5000' },
  });
  try {
    const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
    assert.equal(result.status, 'success', fn.output());
    assert.ok(result.durationMs < 2500, `invocation took ${result.durationMs} ms`);
    assert.equal(hanging.exportCount, 1, 'the spans reached the collector before the freeze');
  } finally {
    await fn.cleanup();
    await hanging.close();
  }
});

for (const protocol of ['http/protobuf', 'grpc']) {
  test(`nodejs22.x: past the flush bound, an export awaiting its answer (${protocol}) stops holding the event loop`, async () => {
    const hanging = await OtlpReceiver.start({ hang: true });
    const fn = await startFunction({
      runtime: 'nodejs22.x',
      fixture: 'callback',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: hanging.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
        OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'answered',
        OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '300',
      },
    });
    try {
      const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
      assert.equal(result.status, 'success', fn.output());
      assert.ok(result.durationMs < 2500, `invocation took ${result.durationMs} ms`);
    } finally {
      await fn.cleanup();
      await hanging.close();
    }
  });
}
