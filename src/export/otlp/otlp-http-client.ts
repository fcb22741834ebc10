/**
 * An OTLP/HTTP request client on `node:http` / `node:https`, just enough for trace export: one POST
 * per export over kept-alive connections. Wire format per the OTLP specification, "OTLP/HTTP"
 * (https://opentelemetry.io/docs/specs/otlp/#otlphttp): binary protobuf bodies, uncompressed.
 *
 * Why `node:http`: Lambda's Node.js runtime client has already loaded it before the layer starts,
 * so the first export costs a connection and nothing more, where `node:http2` (gRPC) first costs
 * Node loading tls, crypto and http2 inside the cold start.
 */
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
import { readStatusMessage } from './decode-export-response.js';

type HttpModule = typeof import('node:http');

/** A response body larger than this is not read into memory (a success response is a few bytes). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A kept-alive connection last answered within this long is trusted to be alive for {@link
 * OtlpHttpClient.post}'s `onSent`. Longer idle (Lambda may have frozen the process for minutes) and
 * the collector may have closed it unseen; collectors keep idle connections for a minute or more.
 */
const TRUSTED_IDLE_MS = 10_000;

/** A failed OTLP/HTTP request: the HTTP status when a response arrived. */
export class OtlpHttpError extends Error {
  /** HTTP status of the response, when one arrived. */
  readonly httpStatus: number | undefined;

  constructor(message: string, options?: { httpStatus?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OtlpHttpError';
    this.httpStatus = options?.httpStatus;
  }
}

/** Settles a request: an error, or the body of a 2xx response. */
export type PostCallback = (error: OtlpHttpError | undefined, responseBody: Buffer | undefined) => void;

/** Client settings. */
export interface OtlpHttpClientOptions {
  /** The full URL to POST to, `http(s)://host:port/v1/traces`. */
  url: URL;
  /** Request headers sent with every export: valid names and values (see `toHttpHeaders`). */
  headers: Readonly<Record<string, string>>;
  /** `user-agent` header. */
  userAgent: string;
}

/**
 * Loads `node:http` or `node:https` synchronously on first use (`process.getBuiltinModule`, Node
 * >= 20.16), falling back to an import on older Node. `node:https` is only loaded for https URLs.
 */
function loadModule(secure: boolean): HttpModule | Promise<HttpModule> {
  const name = secure ? 'node:https' : 'node:http';
  const builtin =
    typeof process.getBuiltinModule === 'function'
      ? (process.getBuiltinModule(name) as HttpModule | undefined)
      : undefined;
  return builtin ?? (import(name) as Promise<HttpModule>);
}

/**
 * POSTs export requests over a kept-alive connection pool of its own. Idle connections do not keep
 * the process alive (Node unrefs a pooled socket); a request in flight holds a ref'd deadline timer,
 * so the process stays up until it settles.
 */
export class OtlpHttpClient {
  private agent: Agent | undefined;
  private closed = false;
  /** How to make each request in flight stop keeping the process alive. */
  private readonly inFlight = new Set<() => void>();
  private readonly secure: boolean;
  /** The request target and the headers every request shares, worked out once. */
  private readonly target: { protocol: string; hostname: string; port: string; path: string; auth?: string };
  private readonly sharedHeaders: Readonly<Record<string, string>>;
  /** When each pooled connection last delivered a response (wall clock: it runs on while frozen). */
  private readonly lastAnswered = new WeakMap<Socket, number>();

  constructor(options: OtlpHttpClientOptions) {
    const { url } = options;
    this.secure = url.protocol === 'https:';
    this.target = {
      protocol: url.protocol,
      // An IPv6 literal comes bracketed in URL.hostname; http.request wants it bare.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      ...(url.username || url.password
        ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }
        : {}),
    };
    this.sharedHeaders = {
      ...options.headers,
      'content-type': 'application/x-protobuf',
      'user-agent': options.userAgent,
    };
  }

  /**
   * Sends `body` (an encoded ExportTraceServiceRequest) and calls back exactly once: with the body of
   * a 2xx response, with an error naming the status or the failure, or after `timeoutMillis`.
   *
   * A kept-alive connection may have been closed by the collector while Lambda froze the process:
   * a request failing on a reused connection before any response is retried once on a new one.
   *
   * `onSent`, if given, is called once the whole request has been handed to the kernel on a
   * connection known to be alive: a new one (it connected) or one that answered within the last
   * {@link TRUSTED_IDLE_MS}. It is not called otherwise; `callback` still reports the outcome. From
   * then on the request no longer keeps the process alive.
   */
  post(body: Buffer, timeoutMillis: number, callback: PostCallback, onSent?: () => void): void {
    let request: ClientRequest | undefined;
    const release = (): void => {
      request?.socket?.unref();
      unrefTimer();
    };
    const done: PostCallback = (error, responseBody) => {
      this.inFlight.delete(release);
      callback(error, responseBody);
    };
    // On the deadline the connection's state is unknown (a collector gone silent?): closed, not reused.
    const { settle, isSettled, unrefTimer } = settleOnce(done, timeoutMillis, () => request?.destroy());
    this.inFlight.add(release);

    const attempt = (module: HttpModule, isRetry: boolean): void => {
      if (isSettled()) return;
      if (this.closed) {
        settle(new OtlpHttpError('OTLP exporter is shut down'));
        return;
      }
      let gotResponse = false;
      try {
        this.agent ??= new module.Agent({ keepAlive: true });
        request = module.request({
          ...this.target,
          method: 'POST',
          agent: this.agent,
          headers: { ...this.sharedHeaders, 'content-length': String(body.length) },
        });
      } catch (error) {
        settle(asHttpError(error));
        return;
      }
      const current = request;
      current.on('response', (response) => {
        gotResponse = true;
        if (response.socket) this.lastAnswered.set(response.socket, Date.now());
        readResponse(response, (error, responseBody) => settle(error, responseBody));
      });
      if (onSent) {
        // 'finish': the last byte was written to the socket, which implies it connected.
        current.once('finish', () => {
          if (isSettled() || !current.socket || current.socket.connecting) return;
          const answeredAt = this.lastAnswered.get(current.socket);
          if (
            !current.reusedSocket ||
            (answeredAt !== undefined && Date.now() - answeredAt < TRUSTED_IDLE_MS)
          ) {
            // Sent is done: the answer must not keep the event loop busy (a callback handler's
            // runtime waits for it to empty before it answers).
            release();
            onSent();
          }
        });
      }
      current.on('error', (error) => {
        if (isSettled()) return;
        if (!gotResponse && current.reusedSocket && !isRetry) {
          diag.debug(`otlp-http: request failed on a reused connection (${error.message}); retrying once`);
          attempt(module, true);
          return;
        }
        settle(
          new OtlpHttpError(
            `OTLP export failed${gotResponse ? '' : ' before any response'}: ${error.message}`,
            {
              cause: error,
            },
          ),
        );
      });
      current.end(body);
    };

    const loaded = loadModule(this.secure);
    if (loaded instanceof Promise) {
      loaded.then(
        (module) => attempt(module, false),
        (error: unknown) => settle(asHttpError(error)),
      );
    } else {
      attempt(loaded, false);
    }
  }

  /** Requests in flight stop keeping the process alive; they go on. */
  releaseInFlight(): void {
    for (const release of this.inFlight) release();
  }

  /** Closes the pooled connections; later requests fail. (Requests in flight are not waited for.) */
  close(): Promise<void> {
    this.closed = true;
    this.agent?.destroy();
    this.agent = undefined;
    return Promise.resolve();
  }
}

/**
 * Reads a response to its end (so that its connection goes back to the pool) and settles: a 2xx
 * status is success, anything else an error carrying the status and the collector's message.
 */
function readResponse(response: IncomingMessage, done: PostCallback): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
  });
  response.on('error', (error) => done(asHttpError(error), undefined));
  response.on('end', () => {
    const status = response.statusCode ?? 0;
    const body = size <= MAX_RESPONSE_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0);
    if (status >= 200 && status < 300) {
      done(undefined, body);
      return;
    }
    done(
      responseError(status, response.statusMessage ?? '', response.headers['content-type'], body),
      undefined,
    );
  });
}

/**
 * One outcome per request: `settle` calls `callback` the first time only, and on its own after
 * `timeoutMillis` (having called `onTimeout` to drop the connection) with a timeout error.
 */
export function settleOnce(
  callback: PostCallback,
  timeoutMillis: number,
  onTimeout: () => void,
): {
  settle: (error: OtlpHttpError | undefined, responseBody?: Buffer) => void;
  isSettled: () => boolean;
  /** Lets the process exit (or a runtime see its event loop empty) while the answer is awaited. */
  unrefTimer: () => void;
} {
  let settled = false;
  const settle = (error: OtlpHttpError | undefined, responseBody?: Buffer): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    callback(error, responseBody);
  };
  const timer = setTimeout(() => {
    onTimeout();
    settle(new OtlpHttpError(`OTLP export timed out: no HTTP response within ${timeoutMillis} ms`));
  }, timeoutMillis);
  return { settle, isSettled: () => settled, unrefTimer: () => timer.unref() };
}

/** An error for a non-2xx answer, naming its status and the collector's message when it sent one. */
export function responseError(
  status: number,
  reason: string,
  contentType: string | undefined,
  body: Buffer,
): OtlpHttpError {
  const isProtobuf = /^application\/(x-)?protobuf/i.test(contentType ?? '');
  const message = isProtobuf ? readStatusMessage(body) : undefined;
  return new OtlpHttpError(
    `OTLP export failed: HTTP status ${status}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`,
    { httpStatus: status },
  );
}

function asHttpError(error: unknown): OtlpHttpError {
  if (error instanceof OtlpHttpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OtlpHttpError(`OTLP export failed: ${message}`, { cause: error });
}
