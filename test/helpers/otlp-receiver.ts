/**
 * An OTLP trace receiver for tests that takes both OTLP/gRPC and OTLP/HTTP
 * (`http/protobuf`) on the same `endpoint`: a `node:net` front server sniffs
 * the first bytes of each connection and pipes HTTP/2 prior-knowledge
 * connections (what gRPC clients send) to a real `@grpc/grpc-js` server
 * serving `TraceService/Export`, and hands everything else to a `node:http`
 * server serving `POST /v1/traces`. Requests are decoded with the protobufjs
 * root generated in `@opentelemetry/otlp-transformer`.
 *
 * Export requests are recorded when they arrive, whatever the receiver answers
 * (so in `hang` mode you still see what the exporter tried to send).
 */

import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Metadata, ServerUnaryCall, ServiceError, sendUnaryData } from '@grpc/grpc-js';
import grpc from '@grpc/grpc-js';
import otlpRoot from 'otlp-proto-root/build/src/generated/root.js';
import { joinSockets } from './tcp-pipe.js';

/** One span as received, flattened with its resource and scope. */
export interface ReceivedSpan {
  /** Lower-case hex; '' when absent. */
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  events: { name: string; timeUnixNano: bigint; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  /** Instrumentation scope name. */
  scope: string;
}

/** Which OTLP transport an export arrived on. */
export type OtlpProtocol = 'grpc' | 'http/protobuf';

/** One Export call as received. */
export interface ReceivedExport {
  /** The transport the request came over. */
  protocol: OtlpProtocol;
  /** The uncompressed protobuf request (for HTTP: after undoing `Content-Encoding: gzip`). */
  payload: Buffer;
  /** gRPC request metadata, or the HTTP request headers: lower-case names, first value of each. */
  metadata: Record<string, string>;
  spans: ReceivedSpan[];
}

/** How the receiver answers. */
export interface OtlpReceiverOptions {
  /** Accept calls but never answer them (a collector that never responds), until {@link OtlpReceiver.close}. */
  hang?: boolean;
  /**
   * Answer every call with this gRPC error instead of success; over HTTP, with the
   * matching HTTP status (see {@link httpStatusFor}) and a `google.rpc.Status` body.
   */
  failWith?: { code: grpc.status; details?: string };
  /**
   * Answer a gRPC call with success at once and decode it only when {@link OtlpReceiver.decodeAnswered}
   * is called, as a collector answers before its pipeline runs: for benchmarks, so that this
   * receiver's own decoding (protobufjs, much slower than a collector's) takes no CPU while the
   * exporter is timed. Tests keep the default (decoded, then answered), so that spans are there when
   * the exporter has its answer.
   */
  answerFirst?: boolean;
}

// Minimal shapes of the generated protobufjs messages we read (the generated d.ts is untyped).
interface LongLike {
  toString(): string;
}
type Int64 = number | LongLike | null;
interface AnyValueMsg {
  stringValue: string | null;
  boolValue: boolean | null;
  intValue: Int64;
  doubleValue: number | null;
  arrayValue: { values: AnyValueMsg[] } | null;
  kvlistValue: { values: KeyValueMsg[] } | null;
  bytesValue: Uint8Array | null;
}
interface KeyValueMsg {
  key: string | null;
  value: AnyValueMsg | null;
}
interface SpanMsg {
  traceId: Uint8Array | null;
  spanId: Uint8Array | null;
  parentSpanId: Uint8Array | null;
  traceState: string | null;
  name: string | null;
  kind: number | null;
  startTimeUnixNano: Int64;
  endTimeUnixNano: Int64;
  attributes: KeyValueMsg[];
  events: { name: string | null; timeUnixNano: Int64; attributes: KeyValueMsg[] }[];
  links: { traceId: Uint8Array | null; spanId: Uint8Array | null; attributes: KeyValueMsg[] }[];
  status: { code: number | null; message: string | null } | null;
}
interface ExportTraceServiceRequestMsg {
  resourceSpans: {
    resource: { attributes: KeyValueMsg[] } | null;
    scopeSpans: { scope: { name: string | null } | null; spans: SpanMsg[] }[];
  }[];
}
interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): ExportTraceServiceRequestMsg } };
        };
      };
    };
  };
}

const { ExportTraceServiceRequest } = (otlpRoot as unknown as GeneratedRoot).opentelemetry.proto.collector
  .trace.v1;

const identity = (bytes: Buffer): Buffer => bytes;
const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
/** An empty ExportTraceServiceResponse encodes to zero bytes. */
const EMPTY_RESPONSE = Buffer.alloc(0);
/** What every HTTP/2 client sends first on a prior-knowledge cleartext connection (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** The OTLP/HTTP path for traces. */
const TRACES_PATH = '/v1/traces';
const PROTOBUF = 'application/x-protobuf';
const gunzip = promisify(zlib.gunzip);

/** gRPC status code to the HTTP status OTLP/HTTP answers with (gRPC's own HTTP mapping). */
const HTTP_STATUS_FOR_GRPC: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.UNAVAILABLE]: 503,
};

interface Waiter {
  check(): boolean;
}

/** The three listening servers behind one receiver. */
interface Servers {
  grpc: grpc.Server;
  grpcPort: number;
  http: http.Server;
  httpPort: number;
  front: net.Server;
  frontPort: number;
  /** Every socket on the front and HTTP servers, and every proxy socket to the gRPC server. */
  sockets: Set<net.Socket>;
}

/** Why an HTTP request is refused (wrong path, method, type or body) instead of recorded. */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The receiver; start with {@link OtlpReceiver.start}. */
export class OtlpReceiver {
  /**
   * `http://127.0.0.1:PORT`, for OTEL_EXPORTER_OTLP_ENDPOINT: takes OTLP/gRPC and
   * OTLP/HTTP alike (one proxy hop to {@link grpcEndpoint} or an in-process hand-off
   * to the HTTP server).
   */
  readonly endpoint: string;
  /** The gRPC server itself, with no sniffing proxy in front (for benchmarks). */
  readonly grpcEndpoint: string;
  /** The OTLP/HTTP server on its own port, with no sniffing in front (for benchmarks). */
  readonly httpEndpoint: string;
  /** Every span received so far, in arrival order. */
  readonly spans: ReceivedSpan[] = [];
  /** Every Export request so far. */
  readonly exports: ReceivedExport[] = [];
  /** Never answer (see {@link OtlpReceiverOptions.hang}); may be changed at any time. */
  hang: boolean;
  /** See {@link OtlpReceiverOptions.answerFirst}. */
  private readonly answerFirst: boolean;
  /** Answer with this error (see {@link OtlpReceiverOptions.failWith}); may be changed at any time. */
  failWith: OtlpReceiverOptions['failWith'];
  private readonly waiters = new Set<Waiter>();
  /** Calls answered in `answerFirst` mode and not decoded yet. */
  private readonly undecoded: (() => void)[] = [];

  private constructor(
    private readonly servers: Servers,
    options: OtlpReceiverOptions,
  ) {
    this.endpoint = `http://127.0.0.1:${servers.frontPort}`;
    this.grpcEndpoint = `http://127.0.0.1:${servers.grpcPort}`;
    this.httpEndpoint = `http://127.0.0.1:${servers.httpPort}`;
    this.hang = options.hang ?? false;
    this.failWith = options.failWith;
    this.answerFirst = options.answerFirst ?? false;
  }

  /** Decodes and records the calls answered in `answerFirst` mode so far. */
  decodeAnswered(): void {
    for (const decode of this.undecoded.splice(0)) decode();
  }

  /** Starts a receiver on three ephemeral ports of 127.0.0.1. */
  static async start(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const sockets = new Set<net.Socket>();
    const grpcServer = new grpc.Server();
    grpcServer.addService(TRACE_SERVICE, {
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
        receiver?.onExport(call, callback),
    });
    const grpcPort = await bindGrpc(grpcServer);
    const httpServer = http.createServer((req, res) => receiver?.onHttpRequest(req, res));
    httpServer.on('connection', (socket: net.Socket) => track(sockets, socket));
    const front = net.createServer((socket) => {
      track(sockets, socket);
      routeConnection(socket, { grpcPort, httpServer, sockets });
    });
    const [httpPort, frontPort] = await Promise.all([listen(httpServer), listen(front)]);
    const servers = { grpc: grpcServer, grpcPort, http: httpServer, httpPort, front, frontPort, sockets };
    receiver = new OtlpReceiver(servers, options);
    return receiver;
  }

  /** Number of Export calls received. */
  get exportCount(): number {
    return this.exports.length;
  }

  /** The raw (uncompressed protobuf) bytes of every Export request, to search for leaked strings. */
  get rawPayloads(): Buffer[] {
    return this.exports.map((e) => e.payload);
  }

  /** True if any exported payload contains this string (UTF-8), anywhere: names, attributes, resource... */
  payloadIncludes(text: string): boolean {
    return this.exports.some((e) => e.payload.includes(text, 0, 'utf8'));
  }

  /** Resolves with all spans once `predicate(spans)` holds; rejects after `timeoutMs` listing what arrived. */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    return this.waitUntil(() => predicate(this.spans), timeoutMs, 'spans matching the predicate').then(() => [
      ...this.spans,
    ]);
  }

  /** Resolves once at least `count` Export calls arrived. */
  waitForExports(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(() => this.exports.length >= count, timeoutMs, `${count} export call(s)`);
  }

  /** Forgets everything received. */
  clear(): void {
    this.spans.length = 0;
    this.exports.length = 0;
  }

  /** Stops all three servers, cancelling calls left hanging and destroying every open connection. */
  async close(): Promise<void> {
    const { grpc: grpcServer, http: httpServer, front, sockets } = this.servers;
    grpcServer.forceShutdown();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    httpServer.closeAllConnections();
    await Promise.all([closeServer(front), closeServer(httpServer)]);
  }

  private onExport(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    const payload = call.request;
    if (this.answerFirst && !this.hang && !this.failWith) {
      callback(null, EMPTY_RESPONSE);
      const metadata = firstValues(call.metadata);
      this.undecoded.push(() => {
        try {
          this.record({ protocol: 'grpc', payload, metadata, spans: decodeSpans(payload) });
        } catch {
          // Already answered; an undecodable request is only missing from the record.
        }
      });
      return;
    }
    let spans: ReceivedSpan[];
    try {
      spans = decodeSpans(payload);
    } catch (error) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `undecodable request: ${String(error)}` });
      return;
    }
    this.record({ protocol: 'grpc', payload, metadata: firstValues(call.metadata), spans });
    if (this.hang) return;
    if (this.failWith) {
      callback(this.failWith as Partial<ServiceError>);
      return;
    }
    callback(null, EMPTY_RESPONSE);
  }

  private onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.handleHttpExport(req).then(
      () => this.answerHttpExport(res),
      (error: unknown) => answerRefusal(req, res, error),
    );
  }

  /** Validates, reads, decodes and records one OTLP/HTTP request; throws an {@link HttpRefusal} otherwise. */
  private async handleHttpExport(req: http.IncomingMessage): Promise<void> {
    checkHttpRequest(req);
    const payload = await readHttpBody(req);
    let spans: ReceivedSpan[];
    try {
      spans = decodeSpans(payload);
    } catch (error) {
      throw new HttpRefusal(400, `undecodable request: ${String(error)}`);
    }
    const received: ReceivedExport = {
      protocol: 'http/protobuf',
      payload,
      metadata: firstHeaderValues(req),
      spans,
    };
    this.record(received);
  }

  private answerHttpExport(res: http.ServerResponse): void {
    if (this.hang) return;
    if (this.failWith) {
      const { code, details = '' } = this.failWith;
      sendProtobuf(res, httpStatusFor(code), encodeRpcStatus(code, details));
      return;
    }
    sendProtobuf(res, 200, EMPTY_RESPONSE);
  }

  private record(received: ReceivedExport): void {
    this.exports.push(received);
    this.spans.push(...received.spans);
    for (const waiter of this.waiters) waiter.check();
  }

  private waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!condition()) return false;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private describe(): string {
    if (this.spans.length === 0) return `received ${this.exports.length} export(s) and no spans`;
    const list = this.spans.map(
      (s) => `  ${s.name} (kind ${s.kind}, trace ${s.traceId}, parent ${s.parentSpanId || '-'})`,
    );
    return `received ${this.exports.length} export(s) with ${this.spans.length} span(s):\n${list.join('\n')}`;
  }
}

/** The HTTP status an OTLP/HTTP receiver answers for this gRPC status code (500 when unmapped). */
export function httpStatusFor(code: grpc.status): number {
  return HTTP_STATUS_FOR_GRPC[code] ?? 500;
}

/** Encodes a `google.rpc.Status` (field 1 int32 code, field 2 string message) by hand. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const parts: Buffer[] = [];
  if (code !== 0) parts.push(Buffer.from([0x08]), varint(BigInt.asUintN(64, BigInt(code))));
  if (message !== '') {
    const text = Buffer.from(message, 'utf8');
    parts.push(Buffer.from([0x12]), varint(BigInt(text.length)), text);
  }
  return Buffer.concat(parts);
}

function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

function bindGrpc(server: grpc.Server): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}

/** Closes a server; resolves even if it was already closed. */
function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function track(sockets: Set<net.Socket>, socket: net.Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
}

interface RouteTargets {
  grpcPort: number;
  httpServer: http.Server;
  sockets: Set<net.Socket>;
}

/** Buffers the first bytes of a front connection until it is clearly HTTP/2 (gRPC) or not, then routes it. */
function routeConnection(socket: net.Socket, targets: RouteTargets): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const verdict = classifyPreface(head);
    if (verdict === 'undecided') return;
    socket.off('data', onData);
    socket.pause();
    if (verdict === 'http2') pipeToGrpc(socket, head, targets);
    else handToHttp(socket, head, targets.httpServer);
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

/** 'http2' once the whole preface arrived, 'http1' as soon as a byte differs, 'undecided' before. */
export function classifyPreface(head: Buffer): 'http2' | 'http1' | 'undecided' {
  const length = Math.min(head.length, HTTP2_PREFACE.length);
  if (!head.subarray(0, length).equals(HTTP2_PREFACE.subarray(0, length))) return 'http1';
  return head.length >= HTTP2_PREFACE.length ? 'http2' : 'undecided';
}

function pipeToGrpc(socket: net.Socket, head: Buffer, targets: RouteTargets): void {
  const upstream = net.connect(targets.grpcPort, '127.0.0.1');
  track(targets.sockets, upstream);
  upstream.write(head);
  joinSockets(socket, upstream);
  socket.resume();
}

function handToHttp(socket: net.Socket, head: Buffer, httpServer: http.Server): void {
  socket.unshift(head);
  httpServer.emit('connection', socket);
  socket.resume();
}

/** Throws an {@link HttpRefusal} for anything but `POST /v1/traces` with a protobuf body. */
function checkHttpRequest(req: http.IncomingMessage): void {
  const path = new URL(req.url ?? '/', 'http://receiver').pathname;
  if (path !== TRACES_PATH) throw new HttpRefusal(404, `no such path: ${path}`);
  if (req.method !== 'POST') {
    throw new HttpRefusal(405, `method not allowed: ${req.method}`, { allow: 'POST' });
  }
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== PROTOBUF) {
    throw new HttpRefusal(415, `unsupported content type: ${mediaType || '(none)'}; send ${PROTOBUF}`);
  }
  const encoding = contentEncoding(req);
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new HttpRefusal(415, `unsupported content encoding: ${encoding}`);
  }
}

function contentEncoding(req: http.IncomingMessage): string {
  return (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase() || 'identity';
}

/** The request body, gunzipped when `Content-Encoding: gzip`; an undecodable gzip body is a 400. */
async function readHttpBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (contentEncoding(req) !== 'gzip') return body;
  try {
    return await gunzip(body);
  } catch (error) {
    throw new HttpRefusal(400, `undecodable gzip body: ${String(error)}`);
  }
}

function answerRefusal(req: http.IncomingMessage, res: http.ServerResponse, error: unknown): void {
  const refusal =
    error instanceof HttpRefusal ? error : new HttpRefusal(500, `receiver error: ${String(error)}`);
  if (res.headersSent || res.destroyed) return;
  req.resume();
  res.writeHead(refusal.status, { 'content-type': 'text/plain; charset=utf-8', ...refusal.headers });
  res.end(refusal.message);
}

function sendProtobuf(res: http.ServerResponse, status: number, body: Buffer): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': PROTOBUF, 'content-length': String(body.length) });
  res.end(body);
}

/** Decodes one ExportTraceServiceRequest into flat spans. */
export function decodeSpans(payload: Uint8Array): ReceivedSpan[] {
  const request = ExportTraceServiceRequest.decode(payload);
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = attributesOf(resourceSpans.resource?.attributes ?? []);
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const scope = scopeSpans.scope?.name ?? '';
      for (const span of scopeSpans.spans) {
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          traceState: span.traceState ?? '',
          name: span.name ?? '',
          kind: span.kind ?? 0,
          startTimeUnixNano: toBigInt(span.startTimeUnixNano),
          endTimeUnixNano: toBigInt(span.endTimeUnixNano),
          attributes: attributesOf(span.attributes),
          resource,
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          events: span.events.map((e) => ({
            name: e.name ?? '',
            timeUnixNano: toBigInt(e.timeUnixNano),
            attributes: attributesOf(e.attributes),
          })),
          links: span.links.map((l) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            attributes: attributesOf(l.attributes),
          })),
          scope,
        });
      }
    }
  }
  return spans;
}

function attributesOf(keyValues: KeyValueMsg[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of keyValues) out[kv.key ?? ''] = anyValue(kv.value);
  return out;
}

/** AnyValue to JS: int64 becomes a number when it fits exactly, a bigint otherwise. */
function anyValue(value: AnyValueMsg | null): unknown {
  if (!value) return undefined;
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue;
  if (value.intValue != null) {
    const big = toBigInt(value.intValue);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
  if (value.doubleValue != null) return value.doubleValue;
  if (value.arrayValue != null) return value.arrayValue.values.map(anyValue);
  if (value.kvlistValue != null) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue != null) return Buffer.from(value.bytesValue);
  return undefined;
}

function toBigInt(value: Int64): bigint {
  if (value == null) return 0n;
  return typeof value === 'number' ? BigInt(value) : BigInt(value.toString());
}

function hex(bytes: Uint8Array | null): string {
  return bytes ? Buffer.from(bytes).toString('hex') : '';
}

function firstValues(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(metadata.getMap())) {
    out[key] = Buffer.isBuffer(values) ? values.toString('base64') : String(values);
  }
  return out;
}

function firstHeaderValues(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(req.headersDistinct)) {
    const first = values?.[0];
    if (first !== undefined) out[key] = first;
  }
  return out;
}
