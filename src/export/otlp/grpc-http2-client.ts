/**
 * A gRPC unary-call client on `node:http2`, just enough for OTLP export: one HTTP/2 session,
 * reused, per client. Wire format per "gRPC over HTTP2"
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 */
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { diag } from '@opentelemetry/api';
import {
  CallDeadlines,
  closed,
  deadlineExceeded,
  destroyWithin,
  failedBeforeResponse,
} from './grpc-calls.js';
import { asCallError, callStatus, formatGrpcTimeout, GrpcCallError, GrpcStatus } from './grpc-status.js';
import { withBuiltin } from './http-request.js';

type Http2Module = typeof import('node:http2');

/** Length-Prefixed-Message prefix: Compressed-Flag (1 byte) + Message-Length (4 bytes, big-endian). */
export const GRPC_MESSAGE_PREFIX_BYTES = 5;

/** RST_STREAM error code CANCEL (RFC 9113 §7), how a gRPC client cancels a call. */
const HTTP2_CANCEL = 0x8;

/**
 * Writes the gRPC message prefix into the first {@link GRPC_MESSAGE_PREFIX_BYTES} bytes of `frame`,
 * whose remaining bytes are the (uncompressed) message.
 */
export function writeGrpcMessagePrefix(frame: Buffer): void {
  frame[0] = 0; // not compressed: no grpc-encoding is sent
  frame.writeUInt32BE(frame.length - GRPC_MESSAGE_PREFIX_BYTES, 1);
}

/** Settles a unary call: an error, or the raw response body (length-prefixed messages). */
export type UnaryCallback = (error: GrpcCallError | undefined, responseBody: Buffer | undefined) => void;

/** Client settings. */
export interface GrpcHttp2ClientOptions {
  /** `http://host:port` (cleartext HTTP/2, prior knowledge) or `https://host:port` (TLS, ALPN h2). */
  origin: string;
  /** Custom metadata sent with every call: lower-case names, valid values (see `toGrpcMetadata`). */
  metadata: Readonly<Record<string, string>>;
  /** `user-agent` header. */
  userAgent: string;
}

interface SessionEntry {
  readonly session: ClientHttp2Session;
  /** Calls that got response headers on this session: it has worked, so it may since have gone stale. */
  answeredCalls: number;
}

/**
 * Makes gRPC unary calls over one lazily opened, reused HTTP/2 session.
 *
 * The session is unref'd so that an idle connection never keeps the process alive; a call in flight
 * holds a (ref'd) deadline timer, so the process stays alive until the call settles. The session is
 * dropped when it closes, receives GOAWAY or errors, and the next call opens a new one.
 */
export class GrpcHttp2Client {
  private entry: SessionEntry | undefined;
  private closed = false;
  private readonly deadlines = new CallDeadlines();

  constructor(private readonly options: GrpcHttp2ClientOptions) {}

  /**
   * Sends one gRPC request message (`framedRequest`, already prefixed, see
   * {@link writeGrpcMessagePrefix}) to `path` and calls back exactly once: on the response, on
   * failure, or after `timeoutMillis` (the call's deadline, also sent as `grpc-timeout`).
   *
   * A session that has already answered a call may have died unnoticed, e.g. while Lambda froze the
   * process: a call failing on it before any response headers is retried once on a new session.
   * (The request may then reach the collector twice if it got it but the answer was lost; one
   * duplicate is preferred to losing the spans.)
   */
  unaryCall(path: string, framedRequest: Uint8Array, timeoutMillis: number, callback: UnaryCallback): void {
    const deadline = Date.now() + timeoutMillis;
    let settled = false;
    /** The current attempt's stream and session. */
    let stream: ClientHttp2Stream | undefined;
    let sessionOfAttempt: SessionEntry | undefined;
    let gotHeaders = false;

    const timer = this.deadlines.start(timeoutMillis, () => {
      // No answer at all may mean a dead connection that still looks open (a peer gone silently,
      // no reset): stop reusing it, so the next call does not wait on it too. Calls still on it
      // may finish; a merely slow collector costs one new connection.
      if (sessionOfAttempt && !gotHeaders) this.retireSession(sessionOfAttempt, timeoutMillis);
      settle(deadlineExceeded(timeoutMillis));
    });

    const settle = (error: GrpcCallError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      timer.end();
      // On a deadline, cancel the stream (RST_STREAM CANCEL) so the server stops working on it.
      if (stream && !stream.closed) stream.close(HTTP2_CANCEL);
      callback(error, body);
    };

    const attempt = (h2: Http2Module, isRetry: boolean): void => {
      if (settled) return;
      let entry: SessionEntry;
      let current: ClientHttp2Stream;
      try {
        entry = this.acquireSession(h2);
        current = entry.session.request(
          {
            ...this.options.metadata,
            ':method': 'POST',
            ':path': path,
            'content-type': 'application/grpc',
            // Required by gRPC: detects proxies that would drop trailers (where grpc-status lives).
            te: 'trailers',
            'grpc-timeout': formatGrpcTimeout(deadline - Date.now()),
            'user-agent': this.options.userAgent,
          },
          { endStream: false },
        );
      } catch (error) {
        // request() throws synchronously on a session that is closing or destroyed.
        settle(asCallError(error));
        return;
      }
      const reused = entry.answeredCalls > 0;
      sessionOfAttempt = entry;
      stream = current;
      let headers: IncomingHttpHeaders | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      let streamError: Error | undefined;
      const chunks: Buffer[] = [];
      current.on('response', (responseHeaders) => {
        headers = responseHeaders;
        gotHeaders = true;
        entry.answeredCalls++;
      });
      current.on('trailers', (responseTrailers) => {
        trailers = responseTrailers;
      });
      current.on('data', (chunk: Buffer) => chunks.push(chunk));
      current.on('error', (error) => {
        streamError = error;
      });
      current.on('close', () => {
        if (settled) return;
        if (!headers) {
          if (reused && !isRetry) {
            diag.debug(
              `otlp-grpc: call failed on a reused session (${describeError(streamError)}); retrying once`,
            );
            this.discardSession(entry);
            attempt(h2, true);
            return;
          }
          settle(failedBeforeResponse(describeError(streamError, current.rstCode), streamError));
          return;
        }
        settle(statusOf(headers, trailers, streamError), Buffer.concat(chunks));
      });
      current.end(framedRequest);
    };

    // node:http2 is loaded on the first call, not at import: the module graph behind it (tls,
    // crypto, assert, ...) costs milliseconds that a cold start which never exports should not pay.
    withBuiltin<Http2Module>(
      'node:http2',
      (h2) => attempt(h2, false),
      (error) => settle(asCallError(error)),
    );
  }

  /** Calls in flight stop keeping the process alive (the session already does not); they go on. */
  releaseInFlight(): void {
    this.deadlines.releaseAll();
  }

  /**
   * Closes the session, letting calls in flight finish within `graceMillis`; later calls fail.
   * Resolves once the connection is closed.
   */
  close(graceMillis: number): Promise<void> {
    this.closed = true;
    const entry = this.entry;
    this.entry = undefined;
    if (!entry || entry.session.destroyed) return Promise.resolve();
    return closed(entry.session, () => this.retireSession(entry, graceMillis));
  }

  private acquireSession(h2: Http2Module): SessionEntry {
    if (this.closed) throw new GrpcCallError('OTLP exporter is shut down', GrpcStatus.CANCELLED);
    const cached = this.entry;
    if (cached && !cached.session.closed && !cached.session.destroyed) return cached;
    const session = h2.connect(this.options.origin, { settings: { enablePush: false } });
    const entry: SessionEntry = { session, answeredCalls: 0 };
    const forget = (): void => {
      if (this.entry === entry) this.entry = undefined;
    };
    // Without an 'error' listener a connection error would be thrown as an uncaught exception; the
    // calls on the session see it through their streams.
    session.on('error', (error) => {
      diag.debug(`otlp-grpc: HTTP/2 session error: ${error.message}`);
      forget();
    });
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref();
    this.entry = entry;
    return entry;
  }

  /**
   * Stops using a session: no new calls on it, calls in flight get `graceMillis` to finish. A
   * graceful close alone could linger as long as TCP does on a peer that went silent.
   */
  private retireSession(entry: SessionEntry, graceMillis: number): void {
    if (this.entry === entry) this.entry = undefined;
    const { session } = entry;
    if (session.destroyed) return;
    if (session.connecting) {
      session.destroy();
      return;
    }
    session.close();
    destroyWithin(session, graceMillis);
  }

  /** Drops a broken session and whatever is still on it. */
  private discardSession(entry: SessionEntry): void {
    if (this.entry === entry) this.entry = undefined;
    entry.session.destroy();
  }
}

/** The outcome of a call that got response headers (see `callStatus`). */
function statusOf(
  headers: IncomingHttpHeaders,
  trailers: IncomingHttpHeaders | undefined,
  streamError: Error | undefined,
): GrpcCallError | undefined {
  return callStatus(
    Number(headers[':status']),
    (name) => firstValue(trailers?.[name]) ?? firstValue(headers[name]),
    streamError,
  );
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeError(error: Error | undefined, rstCode?: number): string {
  if (error) return error.message;
  return rstCode ? `stream reset with HTTP/2 error code ${rstCode}` : 'stream closed';
}
