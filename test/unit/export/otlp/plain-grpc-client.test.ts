/**
 * The hand-written HTTP/2 of `PlainGrpcClient` against node:http2 servers doing what a collector
 * may do at any time: pad frames, split header blocks, ping, go away, answer late. The common
 * gRPC outcomes are in grpc-http2-client.test.ts and lean-otlp-exporter.test.ts, which run on it too
 * (their endpoints are `http:`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { GrpcCallError } from '../../../../src/export/otlp/grpc-status.js';
import { LeanOtlpTraceExporter } from '../../../../src/export/otlp/lean-otlp-exporter.js';
import { PlainGrpcClient } from '../../../../src/export/otlp/plain-grpc-client.js';
import { useExporterSuiteHooks } from './exporter-kit.js';
import { answerGrpcOk, serveHttp2 } from './h2-kit.js';
import { makeSpans } from './span-fixtures.js';

const run = promisify(execFile);

const closers: (() => Promise<void>)[] = [];
/** Every diag line of the suite (`warn …`, `debug …`). */
const lines: string[] = [];

function exporterFor(url: string, settleWhenSent = false, timeoutMillis = 2000): LeanOtlpTraceExporter {
  const exporter = new LeanOtlpTraceExporter({ url, timeoutMillis, settleWhenSent });
  closers.push(() => exporter.shutdown());
  return exporter;
}

function exportOnce(exporter: LeanOtlpTraceExporter, name = 'span'): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(makeSpans([name]), resolve));
}

describe('PlainGrpcClient: HTTP/2 as a collector may speak it', () => {
  useExporterSuiteHooks(lines, closers);

  it('reads padded HEADERS and DATA frames', async () => {
    const server = await serveHttp2(answerGrpcOk, { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX });
    closers.push(server.close);
    const exporter = exporterFor(server.origin);
    for (let i = 0; i < 3; i++) assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    assert.equal(server.bodies.length, 3);
    assert.equal(server.sessions.length, 1, 'one connection for all');
  });

  it('reads a header block split over CONTINUATION frames, and the calls after it', async () => {
    const big = 'b'.repeat(40_000);
    const server = await serveHttp2((stream) => answerGrpcOk(stream, { 'x-big': big }), {
      maxHeaderListPairs: 8,
    });
    closers.push(server.close);
    const exporter = exporterFor(server.origin);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    // The decoder's table survived the big block: the next answers decode too.
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
  });

  it('answers the collector’s PING', async () => {
    const server = await serveHttp2(answerGrpcOk);
    closers.push(server.close);
    const exporter = exporterFor(server.origin);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    const [session] = server.sessions;
    assert.ok(session);
    const acked = await new Promise<boolean>((resolve) => {
      session.ping((error) => resolve(error === null));
    });
    assert.equal(acked, true);
  });

  it('after GOAWAY, the next export opens a new connection', async () => {
    const server = await serveHttp2(answerGrpcOk);
    closers.push(server.close);
    const exporter = exporterFor(server.origin);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    server.sessions[0]?.goaway(http2.constants.NGHTTP2_NO_ERROR);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    assert.equal(server.sessions.length, 2);
    assert.equal(server.bodies.length, 2);
  });

  it('sends a request larger than the peer’s frame size and windows, in order', async () => {
    const server = await serveHttp2(answerGrpcOk, { settings: { initialWindowSize: 1024 } });
    closers.push(server.close);
    const exporter = exporterFor(server.origin);
    const spans = makeSpans(Array.from({ length: 400 }, (_, i) => `span-${i}-${'x'.repeat(200)}`));
    const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
    assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
    const [body] = server.bodies;
    assert.ok(body && body.length > 100_000, `a ${body?.length}-byte request`);
    assert.equal(body.readUInt32BE(1), body.length - 5, 'the gRPC message arrived whole');
  });

  it('settles once sent when asked to, and logs a failure the answer brings later', async () => {
    lines.length = 0;
    let answer: (() => void) | undefined;
    const server = await serveHttp2((stream) => {
      answer = () =>
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '8', 'grpc-message': 'full' },
          { endStream: true },
        );
    });
    closers.push(server.close);
    const exporter = exporterFor(server.origin, true);
    const result = await exportOnce(exporter);
    assert.equal(result.code, ExportResultCode.SUCCESS, 'reported once written, before any answer');
    const warnings = () => lines.filter((line) => line.startsWith('warn '));
    assert.deepEqual(warnings(), []);
    for (let waited = 0; answer === undefined && waited < 2000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    answer?.();
    for (let waited = 0; warnings().length === 0 && waited < 2000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.match(
      warnings().join('\n'),
      /OTLP\/gRPC exporter, reported after the export was sent: .*8 RESOURCE_EXHAUSTED: full/,
    );
  });

  it('a header value HPACK cannot carry fails its call through the callback, never a throw', async () => {
    const server = await serveHttp2(answerGrpcOk);
    closers.push(server.close);
    const client = new PlainGrpcClient({
      origin: server.origin,
      metadata: { 'x-name': 'café ☕' },
      userAgent: 'test',
    });
    closers.push(() => client.close(100));
    const outcome = await new Promise<unknown>((resolve) => {
      client.unaryCall('/svc/Method', Buffer.alloc(5), 1000, (error) => resolve(error));
    });
    assert.ok(outcome instanceof GrpcCallError, String(outcome));
    assert.equal(server.bodies.length, 0, 'nothing was sent');
  });

  it('exports to an http: collector without loading node:http2 (a cold-start cost)', async () => {
    const server = await serveHttp2(answerGrpcOk);
    closers.push(server.close);
    const exporterUrl = new URL('../../../../src/export/otlp/lean-otlp-exporter.js', import.meta.url).href;
    const fixturesUrl = new URL('./span-fixtures.js', import.meta.url).href;
    const script = `
      const { LeanOtlpTraceExporter } = await import(${JSON.stringify(exporterUrl)});
      const { makeSpans } = await import(${JSON.stringify(fixturesUrl)});
      const exporter = new LeanOtlpTraceExporter({ url: ${JSON.stringify(server.origin)}, timeoutMillis: 2000 });
      const result = await new Promise((resolve) => exporter.export(makeSpans(['child']), resolve));
      await exporter.shutdown();
      const http2 = process.moduleLoadList.includes('NativeModule http2');
      process.stdout.write(JSON.stringify({ code: result.code, http2 }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), { code: ExportResultCode.SUCCESS, http2: false });
  });
});
