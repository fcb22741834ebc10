import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import zlib from 'node:zlib';
import grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  classifyPreface,
  encodeRpcStatus,
  httpStatusFor,
  OtlpReceiver,
  type ReceivedSpan,
} from '../../helpers/otlp-receiver.js';

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
    assert.equal(receiver.exports[0]?.protocol, 'grpc');
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

/** What a raw HTTP exchange returned. */
interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface PostOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

/** The bytes the OTel JS http/protobuf exporter would POST for these spans. */
function otlpBody(spans: ReadableSpan[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(bytes, 'the serializer produced a request');
  return Buffer.from(bytes);
}

/** One request over a fresh connection (no agent), the whole answer buffered. */
async function send(baseUrl: string, body: Buffer, options: PostOptions = {}): Promise<HttpAnswer> {
  const req = http.request(new URL(options.path ?? '/v1/traces', baseUrl), {
    method: options.method ?? 'POST',
    agent: false,
    headers: { 'content-type': 'application/x-protobuf', ...options.headers },
  });
  req.end(body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** Decodes the fields of a `google.rpc.Status` this test cares about (1: code, 2: message). */
function decodeRpcStatus(bytes: Buffer): { code: number; message: string } {
  const out = { code: 0, message: '' };
  let at = 0;
  const readVarint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < bytes.length) {
    const tag = readVarint();
    if (tag === 0x08) out.code = readVarint();
    else if (tag === 0x12) {
      const length = readVarint();
      out.message = bytes.subarray(at, at + length).toString('utf8');
      at += length;
    } else throw new Error(`unexpected tag ${tag}`);
  }
  return out;
}

/** Asserts the two spans of {@link makeSpans} arrived intact. */
function assertSameSpans(received: ReceivedSpan[], sent: ReadableSpan[]): void {
  const sentIds = sent.map((s) => {
    const { traceId, spanId } = s.spanContext();
    return [s.name, traceId, spanId, s.parentSpanContext?.spanId ?? ''];
  });
  assert.deepEqual(received.map((s) => [s.name, s.traceId, s.spanId, s.parentSpanId]).sort(), sentIds.sort());
  const parent = received.find((s) => s.name === 'parent');
  assert.equal(parent?.attributes.secret, SECRET);
  assert.equal(parent?.attributes.big, 2 ** 40);
  assert.deepEqual(parent?.attributes.arr, ['a', 'b']);
  assert.equal(parent?.resource['service.name'], 'receiver-test');
}

describe('OtlpReceiver over OTLP/HTTP', { timeout: 10_000 }, () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await OtlpReceiver.start();
  });
  after(() => receiver.close());

  it('takes gRPC and http/protobuf on the same endpoint, and tells them apart', async () => {
    receiver.clear();
    const grpcSpans = makeSpans();
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    const result = await exportOnce(exporter, grpcSpans);
    await exporter.shutdown();
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));

    const httpSpans = makeSpans();
    const answer = await send(receiver.endpoint, otlpBody(httpSpans), { headers: { 'x-tenant': 'blue' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/x-protobuf');
    assert.equal(answer.body.length, 0, 'an empty ExportTraceServiceResponse');

    assert.deepEqual(
      receiver.exports.map((e) => e.protocol),
      ['grpc', 'http/protobuf'],
    );
    const [viaGrpc, viaHttp] = receiver.exports;
    assert.ok(viaGrpc && viaHttp);
    assertSameSpans(viaGrpc.spans, grpcSpans);
    assertSameSpans(viaHttp.spans, httpSpans);
    assert.equal(viaHttp.metadata['x-tenant'], 'blue');
    assert.equal(viaHttp.metadata['content-type'], 'application/x-protobuf');
    assert.equal(receiver.spans.length, 4);
    assert.ok(viaHttp.payload.equals(otlpBody(httpSpans)), 'payload is the protobuf as sent');
  });

  it('httpEndpoint and grpcEndpoint answer directly, on ports of their own', async () => {
    receiver.clear();
    const ports = new Set([receiver.endpoint, receiver.httpEndpoint, receiver.grpcEndpoint]);
    assert.equal(ports.size, 3);
    const answer = await send(receiver.httpEndpoint, otlpBody(makeSpans()));
    assert.equal(answer.status, 200);
    const exporter = new OTLPTraceExporter({ url: receiver.grpcEndpoint });
    const result = await exportOnce(exporter, makeSpans());
    await exporter.shutdown();
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.deepEqual(
      receiver.exports.map((e) => e.protocol),
      ['http/protobuf', 'grpc'],
    );
  });

  it('gunzips a Content-Encoding: gzip body; the payload is the uncompressed protobuf', async () => {
    receiver.clear();
    const sent = makeSpans();
    const plain = otlpBody(sent);
    const answer = await send(receiver.endpoint, zlib.gzipSync(plain), {
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(answer.status, 200);
    assert.ok(receiver.exports[0]?.payload.equals(plain));
    assertSameSpans(receiver.spans, sent);
    assert.ok(receiver.payloadIncludes(SECRET));
  });

  it('a large body and keep-alive requests pass whole through the sniffing endpoint', async () => {
    receiver.clear();
    const spans = Array.from({ length: 60 }, () => makeSpans()).flat();
    for (const span of spans) Object.assign(span.attributes, { filler: 'x'.repeat(4000) });
    const body = otlpBody(spans);
    assert.ok(body.length > 200_000, 'several TCP chunks');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await new Promise<number>((resolve, reject) => {
          const req = http.request(new URL('/v1/traces', receiver.endpoint), {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/x-protobuf' },
          });
          req.on('response', (res: http.IncomingMessage) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(body);
        });
        assert.equal(answer, 200);
      }
    } finally {
      agent.destroy();
    }
    assert.equal(receiver.exportCount, 3);
    assert.equal(receiver.spans.length, 3 * spans.length);
    assert.ok(receiver.exports.every((e) => e.payload.equals(body)));
  });

  it('refuses wrong path (404), wrong method (405), JSON (415) and undecodable bodies (400), recording none', async () => {
    receiver.clear();
    const body = otlpBody(makeSpans());
    assert.equal((await send(receiver.endpoint, body, { path: '/v1/metrics' })).status, 404);
    assert.equal((await send(receiver.endpoint, body, { path: '/' })).status, 404);
    const wrongMethod = await send(receiver.endpoint, Buffer.alloc(0), { method: 'GET' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'POST');
    assert.equal((await send(receiver.endpoint, body, { method: 'PUT' })).status, 405);
    const json = await send(receiver.endpoint, Buffer.from('{"resourceSpans":[]}'), {
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(json.status, 415);
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    assert.equal((await send(receiver.endpoint, garbage)).status, 400);
    const badGzip = await send(receiver.endpoint, body, { headers: { 'content-encoding': 'gzip' } });
    assert.equal(badGzip.status, 400);
    assert.equal(receiver.exportCount, 0);
    // Query strings do not change the path.
    assert.equal((await send(receiver.httpEndpoint, body, { path: '/v1/traces?x=1' })).status, 200);
    assert.equal(receiver.exportCount, 1);
  });

  it('routes an HTTP/1 request split after its first byte ("P", as in the preface) to the HTTP server', async () => {
    receiver.clear();
    const body = otlpBody(makeSpans());
    const head =
      'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n' +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const socket = net.connect(Number(new URL(receiver.endpoint).port), '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    const answer = collect(socket);
    socket.write(head.slice(0, 1));
    await delay(30);
    socket.write(head.slice(1, 3));
    await delay(30);
    socket.end(Buffer.concat([Buffer.from(head.slice(3), 'latin1'), body]));
    assert.match((await answer).toString('latin1'), /^HTTP\/1\.1 200 /);
    assert.equal(receiver.exports[0]?.protocol, 'http/protobuf');
  });

  it('routes an HTTP/2 preface split across writes to the gRPC server, not the HTTP server', async () => {
    const socket = net.connect(Number(new URL(receiver.endpoint).port), '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    const answer = collect(socket);
    socket.write('PRI * HTTP/2.0\r\n');
    await delay(30);
    socket.write('\r\nSM\r\n');
    await delay(30);
    socket.write('\r\n');
    await delay(200);
    socket.end();
    const bytes = await answer;
    assert.doesNotMatch(bytes.toString('latin1'), /^HTTP\/1/, 'the HTTP/1 server did not answer');
    assert.ok(bytes.length >= 9, 'the HTTP/2 server sent a frame');
    assert.equal(bytes[3], 0x04, "the HTTP/2 server's first frame is SETTINGS");
  });

  it('classifyPreface waits for 24 bytes of preface or the first differing byte', () => {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    assert.equal(classifyPreface(Buffer.alloc(0)), 'undecided');
    assert.equal(classifyPreface(preface.subarray(0, 1)), 'undecided');
    assert.equal(classifyPreface(preface.subarray(0, 23)), 'undecided');
    assert.equal(classifyPreface(preface), 'http2');
    assert.equal(classifyPreface(Buffer.concat([preface, Buffer.from([0, 0, 0, 4])])), 'http2');
    assert.equal(classifyPreface(Buffer.from('PO')), 'http1');
    assert.equal(classifyPreface(Buffer.from('PRI * HTTP/1.1')), 'http1');
    assert.equal(classifyPreface(Buffer.from('GET')), 'http1');
  });
});

/** Everything the peer sends until it closes (or the socket errors). */
function collect(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', () => undefined);
  });
}

describe('OtlpReceiver failure modes over OTLP/HTTP', { timeout: 10_000 }, () => {
  it('hang: records the request, never answers; close() resolves promptly', { timeout: 5000 }, async () => {
    const receiver = await OtlpReceiver.start({ hang: true });
    const req = http.request(new URL('/v1/traces', receiver.endpoint), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-protobuf' },
    });
    const outcome = new Promise<string>((resolve) => {
      req.on('response', (res: http.IncomingMessage) => resolve(`answered ${res.statusCode}`));
      req.on('error', (error: Error) => resolve(`error ${error.message}`));
    });
    req.end(otlpBody(makeSpans()));
    try {
      await receiver.waitForExports(1, 2000);
      assert.equal(receiver.exports[0]?.protocol, 'http/protobuf');
      assert.equal(receiver.spans.length, 2);
      const early = await Promise.race([outcome, delay(300, 'still waiting')]);
      assert.equal(early, 'still waiting', 'no answer while hanging');
    } finally {
      const started = Date.now();
      await receiver.close();
      assert.ok(Date.now() - started < 1000, `close() took ${Date.now() - started} ms`);
    }
    assert.match(await outcome, /^error /, 'the pending request was cut, not answered');
  });

  it('failWith UNAVAILABLE: 503 with a google.rpc.Status protobuf body, after recording', async () => {
    const receiver = await OtlpReceiver.start({
      failWith: { code: grpc.status.UNAVAILABLE, details: 'collector is down' },
    });
    try {
      const answer = await send(receiver.endpoint, otlpBody(makeSpans()));
      assert.equal(answer.status, 503);
      assert.equal(answer.headers['content-type'], 'application/x-protobuf');
      assert.deepEqual(decodeRpcStatus(answer.body), { code: 14, message: 'collector is down' });
      assert.equal(receiver.exportCount, 1, 'recorded before failing');
      receiver.failWith = undefined;
      assert.equal((await send(receiver.httpEndpoint, otlpBody(makeSpans()))).status, 200);
    } finally {
      await receiver.close();
    }
  });

  it('maps gRPC status codes to HTTP statuses the way OTLP/HTTP expects', () => {
    assert.equal(httpStatusFor(grpc.status.UNAVAILABLE), 503);
    assert.equal(httpStatusFor(grpc.status.RESOURCE_EXHAUSTED), 429);
    assert.equal(httpStatusFor(grpc.status.INVALID_ARGUMENT), 400);
    assert.equal(httpStatusFor(grpc.status.UNAUTHENTICATED), 401);
    assert.equal(httpStatusFor(grpc.status.PERMISSION_DENIED), 403);
    assert.equal(httpStatusFor(grpc.status.INTERNAL), 500);
    assert.equal(httpStatusFor(grpc.status.DEADLINE_EXCEEDED), 500);
    assert.deepEqual([...encodeRpcStatus(7, 'no')], [0x08, 7, 0x12, 2, 0x6e, 0x6f]);
    assert.deepEqual(decodeRpcStatus(encodeRpcStatus(300, 'é')), { code: 300, message: 'é' });
  });
});

describe('OtlpReceiver answering first (benchmarks)', () => {
  it('answers a gRPC export before decoding it, and decodes it when asked', async () => {
    const receiver = await OtlpReceiver.start({ answerFirst: true });
    try {
      const exporter = new OTLPTraceExporter({ url: receiver.grpcEndpoint });
      const result = await exportOnce(exporter, makeSpans());
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(receiver.spans.length, 0, 'decoded before it was asked to');
      receiver.decodeAnswered();
      assert.deepEqual(receiver.spans.map((s) => s.name).sort(), ['child', 'parent']);
      assert.equal(receiver.exports[0]?.protocol, 'grpc');
    } finally {
      await receiver.close();
    }
  });
});
