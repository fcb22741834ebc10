import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { GrpcCallError } from '../../../../src/export/otlp/grpc-status.js';
import type { LeanOtlpTraceExporterOptions } from '../../../../src/export/otlp/lean-otlp-exporter.js';
import {
  LEAN_EXPORTER_USER_AGENT,
  LeanOtlpTraceExporter,
} from '../../../../src/export/otlp/lean-otlp-exporter.js';
import { OtlpReceiver } from '../../../helpers/otlp-receiver.js';
import { exportFromChild, exportOnce, useExporterSuiteHooks } from './exporter-kit.js';
import { makeSpans, makeVariedSpans } from './span-fixtures.js';
import { TcpProxy } from './tcp-proxy.js';

const SECRET = 'Bearer sk_live_never_log_this_value';

/** Every diag message of the run, to check that header values never show up in logs. */
const logged: string[] = [];

const cleanups: (() => unknown)[] = [];

function exporterFor(
  url: string,
  options: Partial<LeanOtlpTraceExporterOptions> = {},
): LeanOtlpTraceExporter {
  const exporter = new LeanOtlpTraceExporter({ url, timeoutMillis: 2000, ...options });
  cleanups.push(() => exporter.shutdown());
  return exporter;
}

async function receiver(options: Parameters<typeof OtlpReceiver.start>[0] = {}): Promise<OtlpReceiver> {
  const started = await OtlpReceiver.start(options);
  cleanups.push(() => started.close());
  return started;
}

async function proxyTo(target: OtlpReceiver): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(portOf(target.endpoint));
  cleanups.push(() => proxy.close());
  return proxy;
}

function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

const hex = (id: string): string => id.toLowerCase();

describe('LeanOtlpTraceExporter', () => {
  useExporterSuiteHooks(logged, cleanups);

  it('exports spans the receiver decodes, with ids, attributes and metadata', async () => {
    const collector = await receiver();
    const exporter = exporterFor(collector.endpoint, {
      headers: { Authorization: SECRET, 'x-tenant': 'blue' },
    });
    const spans = makeVariedSpans();
    const result = await exportOnce(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));

    assert.equal(collector.exportCount, 1);
    const [received] = collector.exports;
    assert.equal(received.metadata.authorization, SECRET);
    assert.equal(received.metadata['x-tenant'], 'blue');
    assert.match(received.metadata['user-agent'], new RegExp(`^${LEAN_EXPORTER_USER_AGENT}`));
    // The receiver got exactly the official encoding.
    assert.ok(received.payload.equals(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array));

    assert.equal(collector.spans.length, spans.length);
    for (const span of spans) {
      const got = collector.spans.find((s) => s.spanId === hex(span.spanContext().spanId));
      assert.ok(got, `span ${span.name} received`);
      assert.equal(got.traceId, span.spanContext().traceId);
      assert.equal(got.parentSpanId, span.parentSpanContext?.spanId ?? '');
      assert.equal(got.name, span.name);
      assert.equal(got.kind, span.kind + 1);
      assert.equal(got.scope, span.instrumentationScope.name);
    }
    const server = collector.spans.find((s) => s.name === 'GET /items/{id}');
    assert.equal(server?.attributes['int.negative'], -1);
    assert.equal(server?.attributes['str.unicode'], 'héllo wörld 日本語 🎉');
    assert.deepEqual(server?.attributes['arr.bool'], [true, false, true]);
    assert.equal(server?.resource['service.name'], 'fn-équipe');
  });

  it('reuses one connection across exports, and multiplexes concurrent ones on it', async () => {
    const collector = await receiver();
    const proxy = await proxyTo(collector);
    const exporter = exporterFor(proxy.endpoint);
    assert.equal((await exportOnce(exporter, makeSpans(['one']))).code, ExportResultCode.SUCCESS);
    assert.equal((await exportOnce(exporter, makeSpans(['two']))).code, ExportResultCode.SUCCESS);
    const results = await Promise.all(
      [1, 2, 3].map((i) => exportOnce(exporter, makeSpans([`concurrent-${i}`]))),
    );
    assert.deepEqual(
      results.map((r) => r.code),
      [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
    );
    assert.equal(collector.exportCount, 5);
    assert.equal(proxy.connections, 1);
  });

  it('sends a large request (beyond the HTTP/2 flow-control windows)', async () => {
    const collector = await receiver();
    const exporter = exporterFor(collector.endpoint);
    const names = Array.from({ length: 1500 }, (_, i) => `span-${i}`);
    const spans = makeSpans(names, { blob: 'b'.repeat(1000) });
    const result = await exportOnce(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.ok(collector.exports[0].payload.length > 1_500_000);
    assert.equal(collector.spans.length, 1500);
  });

  it('fails promptly when nothing listens (collector gone)', async () => {
    const collector = await receiver();
    const exporter = exporterFor(collector.endpoint);
    assert.equal((await exportOnce(exporter, makeSpans(['before']))).code, ExportResultCode.SUCCESS);
    await collector.close();
    const result = await exportOnce(exporter, makeSpans(['after']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error instanceof GrpcCallError);
    assert.match(result.error.message, /ECONNREFUSED|closed|reset/i);
    assert.ok(result.elapsedMs < 1000, `took ${result.elapsedMs} ms`);

    // A fresh exporter to the dead port, too.
    const fresh = exporterFor(collector.endpoint);
    const first = await exportOnce(fresh, makeSpans(['never']));
    assert.equal(first.code, ExportResultCode.FAILED);
    assert.match(String(first.error?.message), /ECONNREFUSED/);
    assert.ok(first.elapsedMs < 1000, `took ${first.elapsedMs} ms`);
  });

  it('fails after timeoutMillis when the collector never answers, then works again on a new connection', async () => {
    const collector = await receiver({ hang: true });
    const proxy = await proxyTo(collector);
    const exporter = exporterFor(proxy.endpoint, { timeoutMillis: 200 });
    const result = await exportOnce(exporter, makeSpans(['hung']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error instanceof GrpcCallError);
    // Either our deadline fires, or the server honours grpc-timeout first: both say so.
    assert.match(result.error.message, /timed out|DEADLINE_EXCEEDED/);
    assert.ok(result.elapsedMs >= 150 && result.elapsedMs < 1500, `took ${result.elapsedMs} ms`);
    assert.equal(collector.exportCount, 1, 'the request was sent');

    // A connection that answered nothing may be dead: the next export does not wait on it.
    collector.hang = false;
    assert.equal((await exportOnce(exporter, makeSpans(['answered']))).code, ExportResultCode.SUCCESS);
    assert.equal(proxy.connections, 2);
  });

  it('fails with the gRPC status and message the collector sends', async () => {
    const collector = await receiver({
      failWith: { code: grpc.status.UNAVAILABLE, details: 'collector overloaded: ça' },
    });
    const exporter = exporterFor(collector.endpoint);
    const result = await exportOnce(exporter, makeSpans(['refused']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error instanceof GrpcCallError);
    assert.equal(result.error.code, grpc.status.UNAVAILABLE);
    assert.match(result.error.message, /14 UNAVAILABLE: collector overloaded: ça/);
    assert.equal(collector.exportCount, 1, 'no retry on a status from a live collector');
  });

  it('reconnects after the collector restarted on the same address', async () => {
    const first = await receiver();
    const proxy = await proxyTo(first);
    const exporter = exporterFor(proxy.endpoint);
    assert.equal((await exportOnce(exporter, makeSpans(['before restart']))).code, ExportResultCode.SUCCESS);
    await first.close();
    const second = await receiver();
    proxy.retarget(portOf(second.endpoint));
    const result = await exportOnce(exporter, makeSpans(['after restart']));
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.deepEqual(
      second.spans.map((s) => s.name),
      ['after restart'],
    );
    assert.equal(proxy.connections, 2);
  });

  it('retries once on a new connection when a reused one turns out dead (Lambda thaw)', async () => {
    const first = await receiver();
    const proxy = await proxyTo(first);
    const exporter = exporterFor(proxy.endpoint);
    assert.equal((await exportOnce(exporter, makeSpans(['before freeze']))).code, ExportResultCode.SUCCESS);
    // The collector restarts while we are frozen: our connection looks open but is dead.
    const second = await receiver();
    proxy.retarget(portOf(second.endpoint));
    proxy.makeConnectionsStale();
    await first.close();
    const result = await exportOnce(exporter, makeSpans(['after thaw']));
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.deepEqual(
      second.spans.map((s) => s.name),
      ['after thaw'],
    );
    assert.equal(proxy.connections, 2);
    assert.ok(logged.some((line) => line.includes('retrying once')));
  });

  it('fails (once) when the retry on a new connection fails too', async () => {
    const first = await receiver();
    const proxy = await proxyTo(first);
    const exporter = exporterFor(proxy.endpoint);
    assert.equal((await exportOnce(exporter, makeSpans(['before']))).code, ExportResultCode.SUCCESS);
    await first.close();
    proxy.makeConnectionsStale(); // and nothing to reconnect to
    const result = await exportOnce(exporter, makeSpans(['lost']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.elapsedMs < 1000, `took ${result.elapsedMs} ms`);
    assert.equal(proxy.connections, 2, 'one retry, not more');
  });

  it('drops invalid headers with a warning that names the key only', async () => {
    const collector = await receiver();
    const exporter = exporterFor(collector.endpoint, {
      headers: { 'bad header': SECRET, 'x-multiline': `${SECRET}\n`, te: 'gzip', 'x-good': 'ok' },
    });
    assert.equal((await exportOnce(exporter, makeSpans(['h']))).code, ExportResultCode.SUCCESS);
    const { metadata } = collector.exports[0];
    assert.equal(metadata['x-good'], 'ok');
    assert.equal(metadata['x-multiline'], undefined);
    assert.equal(metadata['bad header'], undefined);
    assert.equal(metadata.te, undefined, 'te is gRPC’s own (trailers)');
    assert.ok(logged.some((line) => line.includes("header 'x-multiline'")));
  });

  it('succeeds without a request for no spans', async () => {
    const collector = await receiver();
    const exporter = exporterFor(collector.endpoint);
    assert.equal((await exportOnce(exporter, [])).code, ExportResultCode.SUCCESS);
    assert.equal(collector.exportCount, 0);
  });

  it('reports a bad URL on export instead of throwing', async () => {
    const exporter = exporterFor('ftp://collector:4317');
    const result = await exportOnce(exporter, makeSpans(['x']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /unsupported endpoint scheme 'ftp:'/);
  });

  it('accepts host:port without a scheme as cleartext', async () => {
    const collector = await receiver();
    const exporter = exporterFor(collector.endpoint.replace('http://', ''));
    assert.equal((await exportOnce(exporter, makeSpans(['no scheme']))).code, ExportResultCode.SUCCESS);
  });

  it('shutdown waits for exports in flight, closes the connection and fails later exports', async () => {
    const collector = await receiver();
    const proxy = await proxyTo(collector);
    const exporter = exporterFor(proxy.endpoint);
    await exporter.forceFlush();
    const inFlight = exportOnce(exporter, makeSpans(['in flight']));
    await exporter.shutdown();
    assert.equal((await inFlight).code, ExportResultCode.SUCCESS);
    const later = await exportOnce(exporter, makeSpans(['too late']));
    assert.equal(later.code, ExportResultCode.FAILED);
    assert.match(String(later.error?.message), /shut down/);
    assert.equal(collector.exportCount, 1);
  });

  it('does not keep the process alive once idle, and `await shutdown()` settles', async () => {
    const collector = await receiver();
    const options = { url: collector.endpoint, timeoutMillis: 2000 };
    const child = (thenShutdown: boolean, withoutGetBuiltinModule = false) =>
      exportFromChild(options, { thenShutdown, withoutGetBuiltinModule });
    // Only the unref'd idle session is left after the export: the process must exit by itself.
    assert.equal(await child(false), 'result 0');
    assert.equal(await child(true), 'result 0 shut down');
    assert.equal(await child(false, true), 'result 0');
    assert.deepEqual(
      collector.spans.map((s) => s.name),
      ['from child', 'from child', 'from child'],
    );
  });
});
