import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { httpInstrumentationConfig } from '../../../src/instrumentations/http.js';

// In this process, against a real server on 127.0.0.1: node:http is required after the
// instrumentation is enabled, as a handler's modules are. (test/e2e/http-outbound.test.ts runs
// every client through the layer.)
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({
  instrumentations: [new HttpInstrumentation(httpInstrumentationConfig(undefined))],
  tracerProvider: provider,
});
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

let server: Server;
let port: number;
before(async () => {
  // Answers 404 to everything, as an origin server or a proxy would.
  server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Makes one request under a parent span; returns its CLIENT span. */
async function clientSpan(options: import('node:http').RequestOptions): Promise<ReadableSpan> {
  exporter.reset();
  const parent = trace.getTracer('test').startSpan('parent');
  await context.with(trace.setSpan(context.active(), parent), async () => {
    await new Promise<void>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, ...options }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end();
    });
  });
  parent.end();
  const span = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT);
  assert.ok(span, 'no CLIENT span');
  return span;
}

test('a response of 400 or above: status ERROR and error.type, as fetch and http2 spans have', async () => {
  const span = await clientSpan({ path: '/missing' });
  assert.equal(span.status.code, SpanStatusCode.ERROR);
  assert.equal(span.attributes['http.response.status_code'], 404);
  assert.equal(span.attributes['error.type'], '404');
});

test("a request to a proxy (absolute-form path): url.full is the target's, without its credentials", async () => {
  const span = await clientSpan({ path: 'http://user:pw@example.com/x?token=abc&page=2' });
  assert.equal(span.attributes['url.full'], 'http://example.com/x?token=REDACTED&page=2');
  assert.ok(!JSON.stringify(span.attributes).includes('pw@'), JSON.stringify(span.attributes));
});
