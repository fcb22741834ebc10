import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest, type OtlpSpan } from '../../local/otlp-decode/decode-trace-request.js';
import { gunzipCapped, MAX_OTLP_REQUEST_BYTES, RequestTooLargeError } from './otlp-limits.js';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC_OK = 0;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNIMPLEMENTED = 12;
/** An empty ExportTraceServiceResponse in one uncompressed gRPC message: flag 0, length 0. */
const EMPTY_RESPONSE = Buffer.alloc(5);

export interface OtlpGrpcServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  onSpans(spans: OtlpSpan[]): void;
  onInvalid?(reason: string): void;
}

/**
 * An OTLP/gRPC trace receiver on `node:http2` (cleartext HTTP/2, as collectors listen on 4317):
 * unary `TraceService/Export`, gzip or uncompressed, decoded with the project's own protobuf
 * decoder, so the CLI needs neither grpc-js nor generated code.
 */
export class OtlpGrpcServer {
  private constructor(
    private readonly server: Http2Server,
    private readonly sessions: Set<ServerHttp2Session>,
  ) {}

  static async start(options: OtlpGrpcServerOptions): Promise<OtlpGrpcServer> {
    const server = createServer();
    const sessions = new Set<ServerHttp2Session>();
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    server.on('stream', (stream, headers) => handle(stream, headers, options));
    // A client that goes away mid-call must not take the CLI down.
    server.on('sessionError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new OtlpGrpcServer(server, sessions);
  }

  /** `http://host:port`, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  get endpoint(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Exporters keep their HTTP/2 sessions open; close() alone would wait for them.
      for (const session of this.sessions) session.destroy();
    });
  }
}

function handle(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  options: OtlpGrpcServerOptions,
): void {
  stream.on('error', () => {});
  if (headers[':path'] !== EXPORT_PATH || headers[':method'] !== 'POST') {
    finish(stream, GRPC_UNIMPLEMENTED, `${headers[':path']} is not served here`);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    if (size > MAX_OTLP_REQUEST_BYTES) return;
    size += chunk.length;
    if (size <= MAX_OTLP_REQUEST_BYTES) {
      chunks.push(chunk);
      return;
    }
    // Answer at once rather than buffer whatever a runaway sender still has to send.
    chunks.length = 0;
    const reason = new RequestTooLargeError('the request body').message;
    options.onInvalid?.(`OTLP/gRPC request refused: ${reason}`);
    finish(stream, GRPC_RESOURCE_EXHAUSTED, reason);
  });
  stream.on('end', () => {
    if (size > MAX_OTLP_REQUEST_BYTES) return;
    try {
      const body = Buffer.concat(chunks);
      const spans: OtlpSpan[] = [];
      // A gRPC message: 1-byte compressed flag, 4-byte big-endian length, then the message.
      for (let offset = 0; offset + 5 <= body.length; ) {
        const compressed = body[offset] === 1;
        const length = body.readUInt32BE(offset + 1);
        let message = body.subarray(offset + 5, offset + 5 + length);
        if (message.length !== length) throw new Error('truncated gRPC message');
        if (compressed) {
          if (headers['grpc-encoding'] !== 'gzip')
            throw new Error(`unsupported grpc-encoding ${headers['grpc-encoding']}`);
          message = gunzipCapped(message);
        }
        spans.push(...decodeTraceRequest(message));
        offset += 5 + length;
      }
      options.onSpans(spans);
      finish(stream, GRPC_OK, undefined, EMPTY_RESPONSE);
    } catch (error) {
      options.onInvalid?.(`undecodable OTLP request: ${(error as Error).message}`);
      const code = error instanceof RequestTooLargeError ? GRPC_RESOURCE_EXHAUSTED : GRPC_INVALID_ARGUMENT;
      finish(stream, code, (error as Error).message);
    }
  });
}

function finish(stream: ServerHttp2Stream, status: number, message?: string, body?: Buffer): void {
  if (stream.destroyed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => {
    const trailers: Record<string, string> = { 'grpc-status': String(status) };
    if (message !== undefined) trailers['grpc-message'] = encodeURIComponent(message);
    stream.sendTrailers(trailers);
  });
  stream.end(body);
}
