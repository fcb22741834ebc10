/**
 * The wire protocol against a bare node:http2 server, for the responses a grpc-js receiver does not
 * produce on demand: trailers-only, non-200, missing status, partial success.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { GrpcCallError } from '../../../../src/export/otlp/grpc-status.js';
import { LeanOtlpTraceExporter, TRACE_EXPORT_PATH } from '../../../../src/export/otlp/lean-otlp-exporter.js';
import { silentTcpServer } from './h2-kit.js';
import { makeSpans } from './span-fixtures.js';

interface Seen {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}
type Respond = (stream: http2.ServerHttp2Stream) => void;

const warnings: string[] = [];

async function serve(respond: Respond): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('error', () => {}); // a server-side reset (below) errors the server's stream too
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      seen.push({ headers, body: Buffer.concat(chunks) });
      respond(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const closers: (() => Promise<void>)[] = [];

async function exportTo(respond: Respond): Promise<{ result: ExportResult; seen: Seen[] }> {
  const server = await serve(respond);
  const exporter = new LeanOtlpTraceExporter({ url: server.url, timeoutMillis: 1500 });
  closers.push(
    () => exporter.shutdown(),
    () => server.close(),
  );
  const result = await new Promise<ExportResult>((resolve) => exporter.export(makeSpans(['wire']), resolve));
  return { result, seen: server.seen };
}

/** A gRPC response message (length-prefixed). */
function grpcMessage(bytes: number[]): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, Buffer.from(bytes)]);
}

describe('gRPC over HTTP/2 wire behaviour', () => {
  before(() => {
    diag.setLogger(
      {
        error: () => {},
        warn: (message: string) => warnings.push(message),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
  });
  after(() => diag.disable());
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('sends a unary gRPC request: path, headers, length-prefixed message', async () => {
    const { result, seen } = await exportTo((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcMessage([]));
    });
    assert.equal(result.code, ExportResultCode.SUCCESS);
    const [{ headers, body }] = seen;
    assert.equal(headers[':method'], 'POST');
    assert.equal(headers[':path'], TRACE_EXPORT_PATH);
    assert.equal(headers['content-type'], 'application/grpc');
    assert.equal(headers.te, 'trailers');
    assert.match(String(headers['grpc-timeout']), /^\d{1,8}m$/);
    assert.ok(Number.parseInt(String(headers['grpc-timeout']), 10) <= 1500);
    assert.equal(body[0], 0, 'not compressed');
    assert.equal(body.readUInt32BE(1), body.length - 5);
  });

  it('accepts a trailers-only OK response', async () => {
    const { result } = await exportTo((stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
        { endStream: true },
      );
    });
    assert.equal(result.code, ExportResultCode.SUCCESS);
  });

  it('fails on a trailers-only error, percent-decoding grpc-message', async () => {
    const { result } = await exportTo((stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '8',
          'grpc-message': 'quota%20%C3%A9puis%C3%A9',
        },
        { endStream: true },
      );
    });
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error instanceof GrpcCallError);
    assert.equal(result.error.code, 8);
    assert.match(result.error.message, /8 RESOURCE_EXHAUSTED: quota épuisé/);
  });

  it('fails on a non-200 HTTP status, mapping it to a gRPC code', async () => {
    const { result } = await exportTo((stream) => {
      stream.respond({ ':status': 503, 'content-type': 'text/plain' });
      stream.end('busy');
    });
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error instanceof GrpcCallError);
    assert.equal(result.error.httpStatus, 503);
    assert.equal(result.error.code, 14);
    assert.match(result.error.message, /HTTP status 503, gRPC status 14 UNAVAILABLE/);
  });

  it('fails when the response ends without grpc-status', async () => {
    const { result } = await exportTo((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(grpcMessage([]));
    });
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /without grpc-status/);
  });

  it('fails without retrying when the stream is reset before a response (fresh connection)', async () => {
    const { result, seen } = await exportTo((stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(seen.length, 1);
  });

  it('succeeds on a partial success, logging what was rejected', async () => {
    warnings.length = 0;
    const { result } = await exportTo((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // partial_success { rejected_spans: 2, error_message: "old" }
      stream.end(grpcMessage([0x0a, 0x07, 0x08, 0x02, 0x12, 0x03, 0x6f, 0x6c, 0x64]));
    });
    assert.equal(result.code, ExportResultCode.SUCCESS);
    assert.deepEqual(warnings, ['OTLP/gRPC exporter: collector rejected 2 span(s): old']);
  });

  it('times out on a peer that accepts TCP but never speaks HTTP/2, and drops that connection', async () => {
    const silent = await silentTcpServer();
    closers.push(() => silent.close());
    const { port, sockets, closed } = silent;
    const exporter = new LeanOtlpTraceExporter({ url: `http://127.0.0.1:${port}`, timeoutMillis: 200 });
    closers.push(() => exporter.shutdown());
    const started = performance.now();
    const result = await new Promise<ExportResult>((resolve) =>
      exporter.export(makeSpans(['void']), resolve),
    );
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /timed out/);
    assert.ok(performance.now() - started < 1500);
    // The next export does not queue behind the dead connection: it opens another one.
    await new Promise<ExportResult>((resolve) => exporter.export(makeSpans(['void again']), resolve));
    assert.equal(sockets.length, 2);
    // And the first connection was closed, not leaked.
    for (let waited = 0; !closed[0] && waited < 2000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(closed[0], true);
  });
});
