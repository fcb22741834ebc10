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
import {
  asHttpError,
  bareHostname,
  connectionError,
  InFlightRequests,
  isTrustedConnection,
  MAX_RESPONSE_BYTES,
  OtlpHttpError,
  type PostCallback,
  type PostOptions,
  responseError,
  withBuiltin,
} from './http-request.js';

type HttpModule = typeof import('node:http');

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
 * POSTs export requests over a kept-alive connection pool of its own. Idle connections do not keep
 * the process alive (Node unrefs a pooled socket); a request in flight holds a ref'd deadline timer,
 * so the process stays up until it settles.
 */
export class OtlpHttpClient {
  private agent: Agent | undefined;
  private closed = false;
  private readonly inFlight = new InFlightRequests();
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
      hostname: bareHostname(url),
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
   * Sends the body (an encoded ExportTraceServiceRequest: `message` after its first `headroom` bytes)
   * and calls back exactly once: with the body of a 2xx response, with an error naming the status or
   * the failure, or after `timeoutMillis`.
   *
   * A kept-alive connection may have been closed by the collector while Lambda froze the process:
   * a request failing on a reused connection before any response is retried once on a new one.
   *
   * `onSent`, if given, is called once the whole request has been handed to the kernel on a
   * connection known to be alive: a new one (it connected) or one that answered within the last
   * 10 s. It is not called otherwise; `callback` still reports the outcome. From
   * then on the request no longer keeps the process alive.
   * (`PlainHttpClient` writes its request head in the headroom; this client needs none and skips it.)
   */
  post(message: Buffer, options: PostOptions, callback: PostCallback): void {
    const { timeoutMillis, onSent, headroom = 0 } = options;
    const body = headroom === 0 ? message : message.subarray(headroom);
    let request: ClientRequest | undefined;
    const { settle, isSettled, adopt, sent } = this.inFlight.start(
      callback,
      timeoutMillis,
      () => request?.destroy(),
      onSent,
    );

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
      current.once('socket', adopt);
      current.on('response', (response) => {
        gotResponse = true;
        if (response.socket) this.lastAnswered.set(response.socket, Date.now());
        readResponse(response, (error, responseBody) => settle(error, responseBody));
      });
      if (onSent) {
        // 'finish': the last byte was written to the socket, which implies it connected.
        current.once('finish', () => {
          if (!current.socket || current.socket.connecting) return;
          if (isTrustedConnection(current.reusedSocket, this.lastAnswered.get(current.socket))) sent();
        });
      }
      current.on('error', (error) => {
        if (isSettled()) return;
        if (!gotResponse && current.reusedSocket && !isRetry) {
          diag.debug(`otlp-http: request failed on a reused connection (${error.message}); retrying once`);
          attempt(module, true);
          return;
        }
        settle(connectionError(error, gotResponse));
      });
      current.end(body);
    };

    withBuiltin<HttpModule>(
      this.secure ? 'node:https' : 'node:http',
      (module) => attempt(module, false),
      (error) => settle(asHttpError(error)),
    );
  }

  /** Requests in flight stop keeping the process alive; they go on. */
  releaseInFlight(): void {
    this.inFlight.releaseAll();
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
