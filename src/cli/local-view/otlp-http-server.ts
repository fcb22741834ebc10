import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest, type OtlpSpan } from '../../local/otlp-decode/decode-trace-request.js';
import { gunzipCapped, MAX_OTLP_REQUEST_BYTES, RequestTooLargeError } from './otlp-limits.js';

/** The OTLP/HTTP traces path (https://opentelemetry.io/docs/specs/otlp/#otlphttp-request). */
const TRACES_PATH = '/v1/traces';
/** `application/protobuf` is the registered name of what OTLP calls `application/x-protobuf`. */
const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf']);
/** google.rpc.Code values for the Status an OTLP/HTTP error body carries. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_INTERNAL = 13;

/** Where the OTLP/HTTP receiver listens and what it does with what it gets. */
export interface OtlpHttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  onSpans(spans: OtlpSpan[]): void;
  /** A request that was refused (wrong path, method, type, size, or undecodable). */
  onInvalid?(reason: string): void;
}

/** What to answer, and (for a refusal) why, in words for the CLI's warning. */
interface Reply {
  status: number;
  type: string;
  body: Uint8Array | string;
  reason: string;
  headers?: Record<string, string>;
}

/**
 * An OTLP/HTTP trace receiver on `node:http` (as collectors listen on 4318): `POST /v1/traces`
 * with a binary protobuf `ExportTraceServiceRequest`, gzip or uncompressed, decoded by the same
 * decoder as the gRPC receiver. JSON-encoded OTLP is refused with 415: the decoder reads protobuf.
 */
export class OtlpHttpServer {
  private constructor(private readonly server: Server) {}

  /** Listens on `options.host:options.port`; rejects with the listen error (e.g. EADDRINUSE). */
  static async start(options: OtlpHttpServerOptions): Promise<OtlpHttpServer> {
    const server = createServer((request, response) => handle(request, response, options));
    // A client that goes away mid-request must not take the CLI down.
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new OtlpHttpServer(server);
  }

  /** `http://host:port`, for `OTEL_EXPORTER_OTLP_ENDPOINT` (exporters append `/v1/traces`). */
  get endpoint(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** Stops listening and drops the connections exporters keep alive. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function handle(request: IncomingMessage, response: ServerResponse, options: OtlpHttpServerOptions): void {
  request.on('error', () => {});
  response.on('error', () => {});
  const refusal = checkHeaders(request);
  if (refusal !== undefined) {
    refuse(request, response, refusal, options);
    return;
  }
  readBody(request, (body) => {
    const reply = body instanceof RequestTooLargeError ? tooLarge(body) : answer(request, body, options);
    if (reply.status === 200) send(response, reply);
    else refuse(request, response, reply, options);
  });
}

/** Everything that can be refused before reading the body. */
function checkHeaders(request: IncomingMessage): Reply | undefined {
  const path = new URL(request.url ?? '/', 'http://local').pathname;
  if (path !== TRACES_PATH)
    return text(404, `${path} is not served here; OTLP traces go to POST ${TRACES_PATH}`);
  if (request.method !== 'POST')
    return { ...text(405, `${request.method} ${path}: only POST is taken`), headers: { allow: 'POST' } };
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!PROTOBUF_TYPES.has(type))
    return text(
      415,
      `Content-Type ${type || '(none)'} is not taken: only binary protobuf (application/x-protobuf, ` +
        'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf) is, not JSON',
    );
  const encoding = contentEncoding(request);
  if (encoding !== 'identity' && encoding !== 'gzip')
    return text(415, `Content-Encoding ${encoding} is not taken: only gzip or none`);
  if (Number(request.headers['content-length'] ?? 0) > MAX_OTLP_REQUEST_BYTES)
    return tooLarge(new RequestTooLargeError('the request body'));
  return undefined;
}

/** The request's Content-Encoding, lower-cased; `identity` when there is none. */
function contentEncoding(request: IncomingMessage): string {
  return (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
}

/**
 * Collects the body, or stops collecting at the cap (a chunked request has no Content-Length to
 * check up front); `done` gets the body or the error, once.
 */
function readBody(request: IncomingMessage, done: (body: Buffer | RequestTooLargeError) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    if (size > MAX_OTLP_REQUEST_BYTES) return;
    size += chunk.length;
    if (size <= MAX_OTLP_REQUEST_BYTES) chunks.push(chunk);
    else {
      chunks.length = 0;
      done(new RequestTooLargeError('the request body'));
    }
  });
  request.on('end', () => {
    if (size <= MAX_OTLP_REQUEST_BYTES) done(Buffer.concat(chunks));
  });
}

/** Decodes an export request and hands its spans on: 200, or why not. */
function answer(request: IncomingMessage, body: Buffer, options: OtlpHttpServerOptions): Reply {
  let spans: OtlpSpan[];
  try {
    const message = contentEncoding(request) === 'gzip' ? gunzipCapped(body) : body;
    spans = decodeTraceRequest(message);
  } catch (error) {
    if (error instanceof RequestTooLargeError) return tooLarge(error);
    return rpcStatus(400, RPC_INVALID_ARGUMENT, `undecodable OTLP request: ${(error as Error).message}`);
  }
  try {
    options.onSpans(spans);
  } catch (error) {
    // A translation bug: the sender did nothing wrong, so not a 4xx.
    return rpcStatus(500, RPC_INTERNAL, `the spans could not be stored: ${(error as Error).message}`);
  }
  // An empty ExportTraceServiceResponse (full success) encodes as zero bytes.
  return { status: 200, type: 'application/x-protobuf', body: new Uint8Array(0), reason: '' };
}

function tooLarge(error: RequestTooLargeError): Reply {
  return rpcStatus(413, RPC_RESOURCE_EXHAUSTED, error.message);
}

/** A reply for a request that was not protobuf OTLP: plain text a person can read. */
function text(code: number, message: string): Reply {
  return { status: code, type: 'text/plain; charset=utf-8', body: message, reason: message };
}

/**
 * A reply to a protobuf OTLP request: the spec wants a 4xx/5xx body to be a protobuf
 * `google.rpc.Status`, whose message an exporter can log.
 */
function rpcStatus(code: number, rpcCode: number, message: string): Reply {
  return {
    status: code,
    type: 'application/x-protobuf',
    body: encodeStatus(rpcCode, message),
    reason: message,
  };
}

/** `google.rpc.Status { int32 code = 1; string message = 2; }`. */
export function encodeStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08]), varint(code), Buffer.from([0x12]), varint(text.length), text]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function refuse(
  request: IncomingMessage,
  response: ServerResponse,
  reply: Reply,
  options: OtlpHttpServerOptions,
): void {
  options.onInvalid?.(
    `OTLP/HTTP ${request.method} ${request.url} refused (${reply.status}): ${reply.reason}`,
  );
  // The body may be unread (refused on its headers, or cut at the cap): close rather than drain it.
  send(response, { ...reply, headers: { ...reply.headers, connection: 'close' } });
}

function send(response: ServerResponse, { status, type, body, headers }: Reply): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    ...headers,
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}
