/**
 * The hand-written HTTP/2 of `PlainGrpcClient` against node:http2 servers doing what a collector
 * may do at any time: pad frames, split header blocks, ping, go away, answer late. The common
 * gRPC outcomes are in grpc-http2-client.test.ts and lean-otlp-exporter.test.ts, which run on it too
 * (their endpoints are `http:`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { LeanOtlpTraceExporter } from '../../../../src/export/otlp/lean-otlp-exporter.js';
import { useExporterSuiteHooks } from './exporter-kit.js';
import { makeSpans } from './span-fixtures.js';

const run = promisify(execFile);

type Respond = (stream: http2.ServerHttp2Stream) => void;

interface TestServer {
  url: string;
  server: http2.Http2Server;
  /** Requests received, in order. */
  bodies: Buffer[];
  /** Connections accepted. */
  sessions: http2.ServerHttp2Session[];
  close(): Promise<void>;
}

async function serve(respond: Respond, options: http2.ServerOptions = {}): Promise<TestServer> {
  const server = http2.createServer(options);
  const bodies: Buffer[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      respond(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    bodies,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A gRPC OK answer: headers, an empty message, `grpc-status: 0` in the trailers. */
function answerOk(stream: http2.ServerHttp2Stream, extraHeaders: http2.OutgoingHttpHeaders = {}): void {
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', ...extraHeaders },
    { waitForTrailers: true },
  );
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.alloc(5));
}

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
    const server = await serve(answerOk, { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX });
    closers.push(server.close);
    const exporter = exporterFor(server.url);
    for (let i = 0; i < 3; i++) assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    assert.equal(server.bodies.length, 3);
    assert.equal(server.sessions.length, 1, 'one connection for all');
  });

  it('reads a header block split over CONTINUATION frames, and the calls after it', async () => {
    const big = 'b'.repeat(40_000);
    const server = await serve((stream) => answerOk(stream, { 'x-big': big }), { maxHeaderListPairs: 8 });
    closers.push(server.close);
    const exporter = exporterFor(server.url);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    // The decoder's table survived the big block: the next answers decode too.
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
  });

  it('answers the collector’s PING', async () => {
    const server = await serve(answerOk);
    closers.push(server.close);
    const exporter = exporterFor(server.url);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    const [session] = server.sessions;
    assert.ok(session);
    const acked = await new Promise<boolean>((resolve) => {
      session.ping((error) => resolve(error === null));
    });
    assert.equal(acked, true);
  });

  it('after GOAWAY, the next export opens a new connection', async () => {
    const server = await serve(answerOk);
    closers.push(server.close);
    const exporter = exporterFor(server.url);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    server.sessions[0]?.goaway(http2.constants.NGHTTP2_NO_ERROR);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    assert.equal(server.sessions.length, 2);
    assert.equal(server.bodies.length, 2);
  });

  it('sends a request larger than the peer’s frame size and windows, in order', async () => {
    const server = await serve(answerOk, { settings: { initialWindowSize: 1024 } });
    closers.push(server.close);
    const exporter = exporterFor(server.url);
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
    const server = await serve((stream) => {
      answer = () =>
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '8', 'grpc-message': 'full' },
          { endStream: true },
        );
    });
    closers.push(server.close);
    const exporter = exporterFor(server.url, true);
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

  it('exports to an http: collector without loading node:http2 (a cold-start cost)', async () => {
    const server = await serve(answerOk);
    closers.push(server.close);
    const exporterUrl = new URL('../../../../src/export/otlp/lean-otlp-exporter.js', import.meta.url).href;
    const fixturesUrl = new URL('./span-fixtures.js', import.meta.url).href;
    const script = `
      const { LeanOtlpTraceExporter } = await import(${JSON.stringify(exporterUrl)});
      const { makeSpans } = await import(${JSON.stringify(fixturesUrl)});
      const exporter = new LeanOtlpTraceExporter({ url: ${JSON.stringify(server.url)}, timeoutMillis: 2000 });
      const result = await new Promise((resolve) => exporter.export(makeSpans(['child']), resolve));
      await exporter.shutdown();
      const http2 = process.moduleLoadList.includes('NativeModule http2');
      process.stdout.write(JSON.stringify({ code: result.code, http2 }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), { code: ExportResultCode.SUCCESS, http2: false });
  });
});
