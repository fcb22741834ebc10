import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { OtlpReceiver, type ReceivedExport, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startFunction, traceHeader } from '../helpers/traced-function.js';

const SERVER = 2;

function invocationSpan(spans: ReceivedSpan[], traceId: string): ReceivedSpan {
  const span = spans.find((s) => s.traceId === traceId && s.kind === SERVER);
  assert.ok(
    span,
    `no invocation span for trace ${traceId}; got ${spans.map((s) => `${s.name}/${s.traceId}`).join(', ')}`,
  );
  return span;
}

function childOf(spans: ReceivedSpan[], parent: ReceivedSpan, name: string): ReceivedSpan {
  const span = spans.find((s) => s.parentSpanId === parent.spanId && s.name === name);
  assert.ok(span, `no ${name} span under ${parent.name}; got ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

/** The export request that carried a trace's spans. */
function exportOf(receiver: OtlpReceiver, traceId: string): ReceivedExport {
  const found = receiver.exports.find((e) => e.spans.some((s) => s.traceId === traceId));
  assert.ok(found, `no export carried trace ${traceId}`);
  return found;
}

/**
 * The layer's end-to-end behaviour on one runtime generation: the real runtime client, the built
 * layer through its exec wrapper, a Runtime API emulator that freezes the process between
 * invocations, and a real OTLP receiver (HTTP, the default, and gRPC).
 */
export function defineLayerSuite(runtime: RuntimeName): void {
  describe(`the layer on ${runtime}`, () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await OtlpReceiver.start();
    });
    after(() => receiver.close());
    const env = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });

    test("CommonJS: one trace per invocation, parented to Lambda's header, exported before the freeze", async () => {
      const fn = await startFunction({
        runtime,
        fixture: 'cjs',
        env: env(),
        functionName: 'orders-api',
        memoryMb: 256,
      });
      try {
        const first = traceHeader(true);
        const r1 = await fn.invoke({ orderId: 1 }, { traceHeader: first.header });
        assert.equal(r1.status, 'success', fn.output());
        assert.equal((r1.payload as { ok: boolean }).ok, true);
        // The process is frozen now: whatever was not exported before the response is not here.
        assert.ok(fn.frozen, 'the runtime was not frozen after the response');
        const span1 = invocationSpan(receiver.spans, first.traceId);
        assert.equal(span1.parentSpanId, first.parentId);
        assert.equal(span1.name, 'orders-api');
        assert.equal(span1.attributes['faas.invocation_id'], r1.requestId);
        assert.equal(span1.attributes['faas.coldstart'], true);
        assert.equal(span1.attributes['faas.trigger'], 'other');
        assert.equal(span1.attributes['cloud.account.id'], '123456789012');
        assert.equal(
          span1.attributes['cloud.resource_id'],
          'arn:aws:lambda:us-east-1:123456789012:function:orders-api',
        );
        assert.equal(span1.status.code, 0);
        assert.equal(exportOf(receiver, first.traceId).protocol, 'http/protobuf', 'the default protocol');
        const manual = childOf(receiver.spans, span1, 'manual-work');
        assert.equal(manual.traceId, first.traceId);
        assert.equal(span1.resource['service.name'], 'orders-api');
        assert.equal(span1.resource['cloud.provider'], 'aws');
        assert.equal(span1.resource['cloud.platform'], 'aws_lambda');
        assert.equal(span1.resource['cloud.region'], 'us-east-1');
        assert.equal(span1.resource['faas.name'], 'orders-api');
        assert.equal(span1.resource['faas.version'], '$LATEST');
        assert.equal(span1.resource['faas.max_memory'], 256 * 1024 * 1024);

        const second = traceHeader(true);
        const r2 = await fn.invoke({ orderId: 2 }, { traceHeader: second.header });
        assert.equal(r2.status, 'success');
        assert.equal(r2.pid, r1.pid, 'the second invocation ran in a new process');
        const span2 = invocationSpan(receiver.spans, second.traceId);
        assert.equal(span2.attributes['faas.coldstart'], false);
        assert.notEqual(span2.traceId, span1.traceId);
      } finally {
        await fn.cleanup();
      }
    });

    test('OTLP/gRPC when asked: the same spans, before the freeze', async () => {
      const fn = await startFunction({
        runtime,
        fixture: 'cjs',
        env: { ...env(), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      });
      try {
        const header = traceHeader(true);
        const result = await fn.invoke({}, { traceHeader: header.header });
        assert.equal(result.status, 'success', fn.output());
        assert.ok(fn.frozen);
        const span = invocationSpan(receiver.spans, header.traceId);
        assert.equal(span.parentSpanId, header.parentId);
        childOf(receiver.spans, span, 'manual-work');
        assert.equal(exportOf(receiver, header.traceId).protocol, 'grpc');
        assert.equal(count(fn.output(), 'WARN'), 0, fn.output());
      } finally {
        await fn.cleanup();
      }
    });

    test('Sampled=0 exports nothing', async () => {
      const fn = await startFunction({ runtime, fixture: 'cjs', env: env() });
      try {
        const unsampled = traceHeader(false);
        const r1 = await fn.invoke({}, { traceHeader: unsampled.header });
        assert.equal(r1.status, 'success');
        assert.equal((r1.payload as { recording: boolean }).recording, false);
        // A sampled invocation after it proves the export path works and flushed everything queued.
        const sampled = traceHeader(true);
        await fn.invoke({}, { traceHeader: sampled.header });
        invocationSpan(receiver.spans, sampled.traceId);
        assert.deepEqual(
          receiver.spans.filter((s) => s.traceId === unsampled.traceId),
          [],
        );
      } finally {
        await fn.cleanup();
      }
    });

    test('a response-streaming handler: traced, its stream untouched, spans out before the freeze', async () => {
      const traced = await startFunction({ runtime, fixture: 'streaming', env: env() });
      const plain = await startFunction({ runtime, fixture: 'streaming', traced: false });
      try {
        const header = traceHeader(true);
        const streamed = await traced.invoke({}, { traceHeader: header.header });
        assert.equal(streamed.status, 'success', traced.output());
        assert.equal(streamed.streamed, true);
        assert.equal(streamed.payload, `first;request ${streamed.requestId};`);
        assert.ok(traced.frozen, 'the runtime was not frozen after the response');
        const span = invocationSpan(receiver.spans, header.traceId);
        assert.equal(span.parentSpanId, header.parentId);
        assert.equal(span.attributes['faas.invocation_id'], streamed.requestId);
        assert.equal(span.status.code, 0);
        childOf(receiver.spans, span, 'manual-work');

        const failing = traceHeader(true);
        const broke = await traced.invoke({ action: 'throw' }, { traceHeader: failing.header });
        const brokePlain = await plain.invoke({ action: 'throw' });
        assert.equal(broke.status, 'error');
        assert.deepEqual(
          { type: broke.error?.errorType, message: broke.error?.errorMessage },
          { type: brokePlain.error?.errorType, message: brokePlain.error?.errorMessage },
        );
        const failed = invocationSpan(receiver.spans, failing.traceId);
        assert.equal(failed.status.code, 2);
        assert.equal(failed.status.message, 'stream broke');
        assert.equal(count(traced.output(), 'WARN'), 0, traced.output());
      } finally {
        await traced.cleanup();
        await plain.cleanup();
      }
    });

    test('a throwing handler: ERROR span with the exception, and the runtime gets the same error', async () => {
      const traced = await startFunction({ runtime, fixture: 'cjs', env: env() });
      const plain = await startFunction({ runtime, fixture: 'cjs', traced: false });
      try {
        const header = traceHeader(true);
        const event = { action: 'throw', orderId: 42 };
        const withLayer = await traced.invoke(event, { traceHeader: header.header });
        const without = await plain.invoke(event);
        assert.equal(withLayer.status, 'error');
        assert.equal(withLayer.error?.errorType, 'TypeError');
        assert.equal(withLayer.error?.errorMessage, 'bad order 42');
        assert.equal(withLayer.error?.errorType, without.error?.errorType);
        assert.equal(withLayer.error?.errorMessage, without.error?.errorMessage);
        assert.deepEqual(
          withLayer.error?.trace,
          without.error?.trace?.map((line) => line.replace(plain.taskRoot, traced.taskRoot)),
        );
        const span = invocationSpan(receiver.spans, header.traceId);
        assert.equal(span.status.code, 2);
        assert.equal(span.status.message, 'bad order 42');
        const exception = span.events.find((e) => e.name === 'exception');
        assert.ok(exception, 'no exception event');
        assert.equal(exception.attributes['exception.message'], 'bad order 42');
        assert.match(String(exception.attributes['exception.stacktrace']), /TypeError: bad order 42/);

        const rejected = await traced.invoke(
          { action: 'reject-string' },
          { traceHeader: traceHeader(true).header },
        );
        const rejectedPlain = await plain.invoke({ action: 'reject-string' });
        assert.equal(rejected.status, 'error');
        assert.deepEqual(
          { type: rejected.error?.errorType, message: rejected.error?.errorMessage },
          { type: rejectedPlain.error?.errorType, message: rejectedPlain.error?.errorMessage },
        );
      } finally {
        await traced.cleanup();
        await plain.cleanup();
      }
    });

    test('ESM handlers: .mjs, and a "type": "module" package with the handler in a subfolder', async () => {
      const mjs = await startFunction({ runtime, fixture: 'esm', api: 'same', env: env() });
      const sub = await startFunction({
        runtime,
        fixture: 'esm-module-type',
        handler: 'src/app.handler',
        api: 'same',
        env: env(),
      });
      try {
        const h1 = traceHeader(true);
        const r1 = await mjs.invoke({}, { traceHeader: h1.header });
        assert.equal(r1.status, 'success', mjs.output());
        childOf(receiver.spans, invocationSpan(receiver.spans, h1.traceId), 'manual-work');

        const h2 = traceHeader(true);
        const r2 = await sub.invoke({ n: 1 }, { traceHeader: h2.header });
        assert.deepEqual(r2.payload, { ok: true, echo: { n: 1 } });
        childOf(receiver.spans, invocationSpan(receiver.spans, h2.traceId), 'manual-work');

        const h3 = traceHeader(true);
        const r3 = await mjs.invoke({ action: 'throw' }, { traceHeader: h3.header });
        assert.equal(r3.error?.errorType, 'RangeError');
        assert.equal(invocationSpan(receiver.spans, h3.traceId).status.code, 2);
      } finally {
        await mjs.cleanup();
        await sub.cleanup();
      }
    });

    test('TypeScript compiled to CommonJS, in a subfolder (lib/app.handler)', async () => {
      const fn = await startFunction({
        runtime,
        fixture: 'ts-compiled',
        handler: 'lib/app.handler',
        env: env(),
      });
      try {
        const header = traceHeader(true);
        const result = await fn.invoke({ orderId: 9 }, { traceHeader: header.header });
        assert.deepEqual(result.payload, { ok: true, orderId: 9 }, fn.output());
        childOf(receiver.spans, invocationSpan(receiver.spans, header.traceId), 'manual-work');
      } finally {
        await fn.cleanup();
      }
    });

    for (const api of ['newer', 'older', 'none'] as const) {
      const shipped = {
        newer: 'a newer @opentelemetry/api (1.10)',
        older: 'an older @opentelemetry/api (1.4)',
        none: "no API (it uses the layer's)",
      }[api];
      test(`manual spans arrive when the function ships ${shipped}`, async () => {
        const fn = await startFunction({ runtime, fixture: 'cjs', api, env: env() });
        try {
          const header = traceHeader(true);
          const result = await fn.invoke({}, { traceHeader: header.header });
          assert.equal(result.status, 'success', fn.output());
          const manual = childOf(
            receiver.spans,
            invocationSpan(receiver.spans, header.traceId),
            'manual-work',
          );
          assert.equal(manual.scope, 'fixture-cjs');
        } finally {
          await fn.cleanup();
        }
      });
    }

    for (const api of ['same', 'none'] as const) {
      test(`the function can set its own diag logger (${api === 'same' ? 'its own API copy' : "the layer's"})`, async () => {
        const fn = await startFunction({ runtime, fixture: 'cjs', api, env: env() });
        try {
          const result = await fn.invoke({ action: 'diag' });
          assert.deepEqual(result.payload, { registered: true }, fn.output());
          assert.match(fn.output(), /FUNCTION-DIAG-LINE/);
          assert.doesNotMatch(
            fn.output(),
            /otel-lambda-xray: FUNCTION-DIAG-LINE|does not match previously registered/,
          );
        } finally {
          await fn.cleanup();
        }
      });
    }

    test('a handler that runs into its deadline: the span is marked timed out and arrives', async () => {
      const fn = await startFunction({ runtime, fixture: 'cjs', env: env(), timeoutSec: 2 });
      try {
        const header = traceHeader(true);
        const result = await fn.invoke({ action: 'sleep', ms: 10_000 }, { traceHeader: header.header });
        assert.equal(result.status, 'timeout');
        const span = invocationSpan(receiver.spans, header.traceId);
        assert.equal(span.status.code, 2);
        assert.match(span.status.message, /timed out/);
        assert.equal(span.attributes['error.type'], 'timeout');
      } finally {
        await fn.cleanup();
      }
    });

    test('bad configuration: one warning naming the variable, and the function still traced', async () => {
      const fn = await startFunction({
        runtime,
        fixture: 'cjs',
        env: { ...env(), OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: 'abc', OTEL_PROPAGATORS: 'b3' },
      });
      try {
        const header = traceHeader(true);
        assert.equal((await fn.invoke({}, { traceHeader: header.header })).status, 'success');
        await fn.invoke({}, { traceHeader: traceHeader(true).header });
        invocationSpan(receiver.spans, header.traceId);
        const output = fn.output();
        assert.equal(
          count(output, 'OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS value "abc" invalid, using 500'),
          1,
          output,
        );
        assert.equal(count(output, 'OTEL_PROPAGATORS value "b3" is not a known propagator'), 1, output);
      } finally {
        await fn.cleanup();
      }
    });

    for (const protocol of ['http/protobuf', 'grpc']) {
      test(`no collector listening (${protocol}): connections refused, the invocation goes on at once, one warning`, async () => {
        const fn = await startFunction({
          runtime,
          fixture: 'cjs',
          // Port 9 (discard) on loopback: nothing listens there, connections are refused.
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '300',
          },
        });
        try {
          for (let i = 0; i < 3; i++) {
            const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
            assert.equal(result.status, 'success', fn.output());
            assert.ok(result.durationMs < 2000, `invocation took ${result.durationMs} ms`);
          }
          assert.equal(count(fn.output(), 'WARN'), 1, fn.output());
        } finally {
          await fn.cleanup();
        }
      });

      test(`a collector that never answers (${protocol}) costs at most the flush bound`, async () => {
        const hanging = await OtlpReceiver.start({ hang: true });
        const fn = await startFunction({
          runtime,
          fixture: 'cjs',
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: hanging.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '300',
            // Wait for the answer (the default does for gRPC, not for HTTP to this host).
            OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'answered',
          },
        });
        try {
          for (let i = 0; i < 2; i++) {
            const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
            assert.equal(result.status, 'success', fn.output());
            // The bound is 300 ms; without it the export timeout (2 s) would be waited for.
            assert.ok(result.durationMs < 1000, `invocation took ${result.durationMs} ms`);
          }
          assert.ok(hanging.exportCount >= 1, 'the exporter never reached the collector');
          assert.ok(
            hanging.exports.every((e) => e.protocol === protocol),
            'sent over the protocol asked for',
          );
          assert.equal(count(fn.output(), 'spans not exported within 300 ms'), 1, fn.output());
        } finally {
          await fn.cleanup();
          await hanging.close();
        }
      });
    }

    test('by default, OTLP/HTTP to a collector on this host waits for the write, not for the answer', async () => {
      const hanging = await OtlpReceiver.start({ hang: true });
      const fn = await startFunction({
        runtime,
        fixture: 'cjs',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: hanging.endpoint, OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '2000' },
      });
      try {
        for (let i = 0; i < 2; i++) {
          const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
          assert.equal(result.status, 'success', fn.output());
          // Waiting for an answer would take the whole 2 s bound: this collector never gives one.
          assert.ok(result.durationMs < 1500, `invocation took ${result.durationMs} ms`);
          assert.equal(hanging.exportCount, i + 1, 'the spans reached the collector before the freeze');
        }
        assert.equal(count(fn.output(), 'spans not exported'), 0, fn.output());
      } finally {
        await fn.cleanup();
        await hanging.close();
      }
    });

    test('a handler that does not exist fails exactly as it does without the layer', async () => {
      const traced = await startFunction({ runtime, fixture: 'cjs', handler: 'index.missing', env: env() });
      const plain = await startFunction({ runtime, fixture: 'cjs', handler: 'index.missing', traced: false });
      try {
        const withLayer = await traced.invoke({});
        const without = await plain.invoke({});
        assert.equal(withLayer.status, without.status);
        assert.equal(withLayer.error?.errorType, 'Runtime.HandlerNotFound');
        assert.equal(withLayer.error?.errorType, without.error?.errorType);
        assert.equal(withLayer.error?.errorMessage, without.error?.errorMessage);
      } finally {
        await traced.cleanup();
        await plain.cleanup();
      }
    });
  });
}

/** How many times `needle` occurs in `text`. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
