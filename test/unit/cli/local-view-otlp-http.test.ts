import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { banner } from '../../../src/cli/local-command.js';
import { DEFAULT_PORTS, LocalView } from '../../../src/cli/local-view/local-view.js';
import { MAX_OTLP_REQUEST_BYTES } from '../../../src/cli/local-view/otlp-limits.js';
import { LAMBDA_CONTEXT, makeTracing } from '../xray/helpers.js';

const PROTOBUF = 'application/x-protobuf';

/** Two real SDK spans (a server span and its child) of one trace, X-Ray trace ID alongside. */
function makeTrace(name: string): { spans: ReadableSpan[]; xrayTraceId: string } {
  const { record, under } = makeTracing();
  const server = record(name, { kind: 1, attributes: { 'http.request.method': 'GET' } }, LAMBDA_CONTEXT);
  const child = record(`${name} child`, { kind: 2 }, under(server));
  const id = server.spanContext().traceId;
  return { spans: [server, child], xrayTraceId: `1-${id.slice(0, 8)}-${id.slice(8)}` };
}

/** The bytes OpenTelemetry JS's own `http/protobuf` exporter sends. */
function serialize(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(bytes !== undefined && bytes.length > 0);
  return bytes;
}

describe('the local view over OTLP/HTTP', () => {
  let view: LocalView;
  const warnings: string[] = [];
  const url = (path = '/v1/traces') => `${view.otlpHttpEndpoint}${path}`;
  const post = (body: Uint8Array | string, headers: Record<string, string> = {}, path?: string) =>
    fetch(url(path), { method: 'POST', headers: { 'content-type': PROTOBUF, ...headers }, body });

  before(async () => {
    view = await LocalView.start({
      udpPort: 0,
      otlpPort: 0,
      otlpHttpPort: 0,
      webPort: 0,
      onWarning: (message) => warnings.push(message),
    });
  });
  after(() => view?.close());

  test('listens on its own port, beside gRPC', () => {
    assert.match(view.otlpHttpEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(view.otlpHttpEndpoint, view.otlpEndpoint);
  });

  test('POST /v1/traces with protobuf: 200, an empty protobuf response, the spans in the store', async () => {
    const { spans, xrayTraceId } = makeTrace('GET /orders');
    const response = await post(serialize(spans));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), PROTOBUF);
    assert.equal((await response.arrayBuffer()).byteLength, 0);
    const trace = await view.store.waitFor(xrayTraceId, (t) => t.documents.size >= 1, 2000);
    const names = JSON.stringify([...trace.documents.values()]);
    assert.match(names, /"name":"orders-api"/, 'the server span became the segment');
    assert.match(names, /"name":"GET \/orders child"/, 'the client span became a subsegment');
  });

  test('a gzip body (Content-Encoding: gzip) is inflated first', async () => {
    const { spans, xrayTraceId } = makeTrace('GET /gzipped');
    const response = await post(gzipSync(serialize(spans)), { 'content-encoding': 'gzip' });
    assert.equal(response.status, 200);
    await view.store.waitFor(xrayTraceId, (t) => t.documents.size >= 1, 2000);
  });

  test('other paths are 404, other methods 405', async () => {
    const metrics = await post(new Uint8Array(0), {}, '/v1/metrics');
    assert.equal(metrics.status, 404);
    assert.match(await metrics.text(), /POST \/v1\/traces/);
    assert.equal((await post(new Uint8Array(0), {}, '/')).status, 404);
    const get = await fetch(url());
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  test('JSON OTLP is 415, saying only protobuf is taken', async () => {
    const response = await post('{"resourceSpans":[]}', { 'content-type': 'application/json' });
    assert.equal(response.status, 415);
    assert.match(await response.text(), /only binary protobuf \(application\/x-protobuf/);
    assert.ok(
      warnings.some((w) => /refused \(415\).*application\/json/.test(w)),
      warnings.join('\n'),
    );
    const brotli = await post(new Uint8Array(0), { 'content-encoding': 'br' });
    assert.equal(brotli.status, 415);
  });

  test('an undecodable body is 400 with a protobuf Status; the view keeps taking requests', async () => {
    const before = view.store.list().length;
    const garbage = await post(Uint8Array.from([0x0a, 0x05, 0x01]));
    assert.equal(garbage.status, 400);
    assert.equal(garbage.headers.get('content-type'), PROTOBUF);
    const status = Buffer.from(await garbage.arrayBuffer());
    // google.rpc.Status: field 1 (code) = 3 INVALID_ARGUMENT, then field 2, the message.
    assert.deepEqual([...status.subarray(0, 3)], [0x08, 3, 0x12]);
    assert.match(status.toString('utf8'), /undecodable OTLP request/);
    const badGzip = await post(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) & 0xff;
    assert.ok([200, 400].includes((await post(random)).status));
    assert.equal(view.store.list().length, before, 'nothing from garbage was stored');

    const { spans, xrayTraceId } = makeTrace('GET /after-garbage');
    assert.equal((await post(serialize(spans))).status, 200);
    await view.store.waitFor(xrayTraceId, (t) => t.documents.size >= 1, 2000);
  });

  test('a body above the cap is 413: by Content-Length, chunked, or once inflated', async () => {
    const huge = Buffer.alloc(MAX_OTLP_REQUEST_BYTES + 1);
    assert.equal((await post(huge)).status, 413);
    const chunked = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': PROTOBUF },
      body: new Blob([huge]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    const bomb = await post(gzipSync(huge), { 'content-encoding': 'gzip' });
    assert.equal(bomb.status, 413);
    assert.match(Buffer.from(await bomb.arrayBuffer()).toString('utf8'), /decompressed request is larger/);
    const { spans, xrayTraceId } = makeTrace('GET /after-413');
    assert.equal((await post(serialize(spans))).status, 200);
    await view.store.waitFor(xrayTraceId, (t) => t.documents.size >= 1, 2000);
  });

  test('a gzip bomb over gRPC is refused with RESOURCE_EXHAUSTED, not inflated', async () => {
    const compressed = gzipSync(Buffer.alloc(MAX_OTLP_REQUEST_BYTES + 1));
    const frame = Buffer.alloc(5);
    frame[0] = 1;
    frame.writeUInt32BE(compressed.length, 1);
    const session = connect(view.otlpEndpoint);
    try {
      const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          'content-type': 'application/grpc',
          'grpc-encoding': 'gzip',
        });
        stream.on('trailers', resolve);
        stream.on('error', reject);
        stream.resume();
        stream.end(Buffer.concat([frame, compressed]));
      });
      assert.equal(trailers['grpc-status'], '8');
    } finally {
      session.close();
    }
  });

  test('the banner gives both OTLP endpoints with the environment each needs', () => {
    const text = banner(view);
    const http = view.otlpHttpEndpoint;
    const grpc = view.otlpEndpoint;
    assert.match(
      text,
      new RegExp(`^ {2}OTLP/HTTP +${http} +functions: OTEL_EXPORTER_OTLP_ENDPOINT=${http}$`, 'm'),
    );
    assert.match(
      text,
      new RegExp(
        `^ {2}OTLP/gRPC +${grpc} +functions: OTEL_EXPORTER_OTLP_ENDPOINT=${grpc} OTEL_EXPORTER_OTLP_PROTOCOL=grpc$`,
        'm',
      ),
    );
    // The "functions:" column lines up.
    const columns = text.split('\n').filter((line) => line.includes('functions:'));
    assert.equal(columns.length, 3);
    assert.equal(new Set(columns.map((line) => line.indexOf('functions:'))).size, 1);
  });
});

test('a taken OTLP/HTTP port fails the start with EADDRINUSE and that port', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as { port: number };
  try {
    await assert.rejects(
      LocalView.start({ udpPort: 0, otlpPort: 0, otlpHttpPort: port, webPort: 0 }),
      (error: { code?: string; port?: number }) => error.code === 'EADDRINUSE' && error.port === port,
    );
  } finally {
    blocker.close();
  }
});

test('the default ports are the ones the README and the collector use', () => {
  assert.deepEqual(DEFAULT_PORTS, { udp: 2000, otlp: 4317, otlpHttp: 4318, web: 2001 });
});
