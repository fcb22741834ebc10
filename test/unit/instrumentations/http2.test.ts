import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ExportHealth } from '../../../src/export/export-health.js';
import { LambdaSpanProcessor } from '../../../src/export/lambda-span-processor.js';
import { LeanOtlpTraceExporter } from '../../../src/export/otlp/lean-otlp-exporter.js';
import { Http2ClientInstrumentation } from '../../../src/instrumentations/http2.js';
import { HttpServers } from '../../helpers/http-servers.js';
import { OtlpReceiver } from '../../helpers/otlp-receiver.js';

/*
 * The layer's own http2 client instrumentation, in process, against a real HTTP/2 server, and
 * with the layer's real OTLP exporter (which speaks gRPC over node:http2 itself).
 */

const memory = new InMemorySpanExporter();
const receiver = { current: undefined as OtlpReceiver | undefined };
let lambdaProcessor: LambdaSpanProcessor;
let instrumentation: Http2ClientInstrumentation;
let servers: HttpServers;
// Required after the instrumentation is enabled, the way a function's code loads it.
let http2: typeof import('node:http2');

before(async () => {
  [servers, receiver.current] = await Promise.all([HttpServers.start(), OtlpReceiver.start()]);
  const endpoint = receiver.current.endpoint;
  lambdaProcessor = new LambdaSpanProcessor({
    createExporter: () => new LeanOtlpTraceExporter({ url: endpoint, headers: {}, timeoutMillis: 2000 }),
    maxQueuedSpans: 100,
    health: new ExportHealth(),
  });
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(memory), lambdaProcessor],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  instrumentation = new Http2ClientInstrumentation();
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  http2 = createRequire(import.meta.url)('node:http2');
});

after(async () => {
  instrumentation.disable();
  await Promise.all([servers.close(), receiver.current?.close()]);
  await lambdaProcessor.shutdown();
});

/** One GET over a fresh session; resolves with the status, or rejects with the stream's error. */
function get(path: string, options: { timeoutMs?: number; origin?: string } = {}): Promise<number> {
  const session = http2.connect(options.origin ?? servers.urls.http2, { ca: servers.certificate.cert });
  return new Promise<number>((resolve, reject) => {
    session.on('error', reject);
    const stream = session.request({ ':path': path, authorization: 'Bearer do-not-record' });
    if (options.timeoutMs)
      stream.setTimeout(options.timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let status: number | undefined;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('error', reject);
    stream.resume();
    stream.on('close', () => (status === undefined ? reject(new Error('no response')) : resolve(status)));
    stream.end();
  }).finally(() => session.close());
}

function spansFor(path: string): ReadableSpan[] {
  return memory.getFinishedSpans().filter((s) => String(s.attributes['url.full']).includes(path));
}

describe('http2 client instrumentation', () => {
  test('a request under a span: one CLIENT span, attributes old and new, trace headers sent', async () => {
    const tracer = trace.getTracer('test');
    const parent = tracer.startSpan('invocation');
    const status = await context.with(trace.setSpan(context.active(), parent), () =>
      get('/h2-unit?token=abc&page=3'),
    );
    parent.end();
    assert.equal(status, 200);
    const [span, ...more] = spansFor('/h2-unit');
    assert.ok(span, 'no span');
    assert.equal(more.length, 0);
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.name, 'GET');
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId);
    const url = `${servers.urls.http2}/h2-unit?token=REDACTED&page=3`;
    assert.deepEqual(
      {
        full: span.attributes['url.full'],
        old: span.attributes['http.url'],
        method: span.attributes['http.request.method'],
        oldMethod: span.attributes['http.method'],
        status: span.attributes['http.response.status_code'],
        oldStatus: span.attributes['http.status_code'],
        address: span.attributes['server.address'],
        version: span.attributes['network.protocol.version'],
      },
      {
        full: url,
        old: url,
        method: 'GET',
        oldMethod: 'GET',
        status: 200,
        oldStatus: 200,
        address: '127.0.0.1',
        version: '2',
      },
    );
    const received = await servers.waitFor('/h2-unit');
    assert.equal(
      received.headers.traceparent,
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    );
    assert.equal(received.headers.authorization, 'Bearer do-not-record');
    assert.ok(!JSON.stringify(span.attributes).includes('do-not-record'));
  });

  test('no span and no trace header outside any span, or with tracing suppressed', async () => {
    assert.equal(await get('/h2-no-parent'), 200);
    const parent = trace.getTracer('test').startSpan('invocation');
    const suppressed = suppressTracing(trace.setSpan(context.active(), parent));
    assert.equal(await context.with(suppressed, () => get('/h2-suppressed')), 200);
    parent.end();
    assert.deepEqual(spansFor('/h2-no-parent'), []);
    assert.deepEqual(spansFor('/h2-suppressed'), []);
    assert.equal((await servers.waitFor('/h2-no-parent')).headers.traceparent, undefined);
    assert.equal((await servers.waitFor('/h2-suppressed')).headers.traceparent, undefined);
  });

  test('a 5xx, a timeout and a refused connection are errors with their cause', async () => {
    const parent = trace.getTracer('test').startSpan('invocation');
    const under = trace.setSpan(context.active(), parent);
    assert.equal(await context.with(under, () => get('/status/502/h2')), 502);
    await assert.rejects(context.with(under, () => get('/hang/h2-unit', { timeoutMs: 50 })));
    await assert.rejects(context.with(under, () => get('/refused-h2', { origin: 'https://127.0.0.1:1' })));
    parent.end();

    const [bad] = spansFor('/status/502/h2');
    assert.equal(bad?.status.code, 2);
    assert.equal(bad?.attributes['error.type'], '502');
    const [hung] = spansFor('/hang/h2-unit');
    assert.equal(hung?.status.code, 2);
    assert.equal(hung?.attributes['error.type'], 'timeout');
    assert.ok(hung?.events.some((e) => e.name === 'exception'));
    const [refused] = spansFor('/refused-h2');
    assert.equal(refused?.status.code, 2);
    assert.ok(refused?.events.some((e) => e.name === 'exception'));
  });

  test('headers given as a raw array go out as given, with the trace headers added; where Node refuses them, it still does', async () => {
    const tracer = trace.getTracer('test');
    const session = http2.connect(servers.urls.http2, { ca: servers.certificate.cert });
    const raw = [':path', '/raw-h2?page=2', ':method', 'POST', 'x-a', '1'];
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    // Raw arrays came to ClientHttp2Session#request in Node 22.17 and 24 (nodejs/node#57917).
    const accepted = major > 22 || (major === 22 && minor >= 17);
    try {
      memory.reset();
      const parent = tracer.startSpan('raw-parent');
      const outcome = await context.with(trace.setSpan(context.active(), parent), async () => {
        try {
          const stream = session.request(raw as never);
          stream.resume();
          await new Promise<void>((resolve, reject) => {
            stream.on('close', resolve);
            stream.on('error', reject);
            stream.end();
          });
          return 'sent';
        } catch (error) {
          return (error as NodeJS.ErrnoException).code;
        }
      });
      parent.end();
      assert.deepEqual(
        raw,
        [':path', '/raw-h2?page=2', ':method', 'POST', 'x-a', '1'],
        "the caller's array changed",
      );
      if (!accepted) {
        assert.equal(outcome, 'ERR_INVALID_ARG_TYPE');
        return;
      }
      assert.equal(outcome, 'sent');
      const [request] = servers.received('/raw-h2');
      const [span] = spansFor('/raw-h2');
      assert.equal(request?.method, 'POST');
      assert.equal(request?.headers['x-a'], '1');
      assert.equal(
        request?.headers.traceparent,
        `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
      );
      assert.equal(span?.attributes['http.request.method'], 'POST');
    } finally {
      session.close();
    }
  });

  test("the layer's exporter, itself on node:http2, is never traced: no span of its own calls", async () => {
    const tracer = trace.getTracer('test');
    // The export runs inside an active span, as it would from inside an invocation, and twice:
    // a span made by the first export would leave with the second.
    for (let round = 0; round < 2; round++) {
      const span = tracer.startSpan(`work-${round}`);
      span.end();
      await context.with(trace.setSpan(context.active(), span), () => lambdaProcessor.forceFlush());
    }
    const current = receiver.current as OtlpReceiver;
    const names = current.spans.map((s) => s.name);
    assert.ok(names.includes('work-0') && names.includes('work-1'), names.join(', '));
    const port = new URL(current.endpoint).port;
    const ownCalls = (attributes: Record<string, unknown>) => String(attributes['server.port']) === port;
    assert.deepEqual(
      current.spans.filter((s) => ownCalls(s.attributes)),
      [],
    );
    assert.deepEqual(
      memory.getFinishedSpans().filter((s) => ownCalls(s.attributes)),
      [],
    );
    assert.ok(propagation.fields().includes('traceparent'));
  });
});
