/**
 * OTLP/HTTP POSTs written straight on a `node:net` socket, for cleartext `http:` endpoints: the
 * collector extension on localhost. After Lambda has frozen the process between invocations,
 * everything an invocation runs is slow (cold CPU caches), and `node:http`'s request machinery took
 * ~485 µs to write a request where one socket write takes ~200 µs (Node 24, 20 ms idle before each
 * request): the difference was a quarter of the layer's whole per-invocation cost. `https:` and
 * anything unusual stay with `node:http` (`OtlpHttpClient`).
 *
 * Wire format per RFC 9112: one request at a time per connection, no pipelining; the connection is
 * kept when the response allows it.
 */
import type { Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
import {
  asHttpError,
  cleartextAddress,
  connectionError,
  InFlightRequests,
  isTrustedConnection,
  OtlpHttpError,
  type PostCallback,
  type PostOptions,
  responseError,
  withBuiltin,
} from './http-request.js';
import { type Http1Response, Http1ResponseParser } from './http1-response-parser.js';

type NetModule = typeof import('node:net');

/** Digits of the largest Content-Length a request may have (the processor's batches are far smaller). */
const MAX_LENGTH_DIGITS = 10;

/** Client settings. */
export interface PlainHttpClientOptions {
  /** An `http:` URL. */
  url: URL;
  /** Request headers (valid names and values, see `toHttpHeaders`). */
  headers: Readonly<Record<string, string>>;
  userAgent: string;
}

interface Connection {
  readonly socket: Socket;
  /** When it last delivered a complete response; undefined while it never has. */
  answeredAt: number | undefined;
  /** Removes the listeners that watch it while idle. */
  detachIdle?: () => void;
}

/** POSTs over one kept-alive connection (a second one only while the first is busy). */
export class PlainHttpClient {
  private idle: Connection | undefined;
  private closed = false;
  private readonly inFlight = new InFlightRequests();
  /** Where the connection goes. */
  private readonly address: { readonly host: string; readonly port: number };
  /** The request head up to `Content-Length: `, which each request completes. */
  private readonly headPrefix: string;
  /**
   * Free bytes a caller may leave before the body (`post`'s `headroom`) for the request head to be
   * written in place: the request then leaves in one write with no copy of the body.
   */
  readonly headroom: number;

  constructor(options: PlainHttpClientOptions) {
    const { url } = options;
    if (url.protocol !== 'http:') throw new Error('PlainHttpClient takes http: URLs only');
    this.address = cleartextAddress(url);
    const fields: [string, string][] = [
      ['Host', url.host],
      ...Object.entries(options.headers),
      ['User-Agent', options.userAgent],
      ['Content-Type', 'application/x-protobuf'],
    ];
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      fields.push(['Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`]);
    }
    const target = `${url.pathname}${url.search}`;
    this.headPrefix = `POST ${target} HTTP/1.1\r\n${fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Content-Length: `;
    // Header values are Latin-1 (checked by toHttpHeaders): one byte per character.
    this.headroom = this.headPrefix.length + MAX_LENGTH_DIGITS + 4;
  }

  /**
   * As `OtlpHttpClient.post`: one outcome per call, `onSent` once written on a trusted connection.
   * The body is `message` after its first `headroom` bytes; with at least {@link headroom} of them,
   * the head is written there.
   */
  post(message: Buffer, options: PostOptions, callback: PostCallback): void {
    const { timeoutMillis, onSent, headroom = 0 } = options;
    let current: Connection | undefined;
    const { settle, isSettled, adopt, sent } = this.inFlight.start(
      callback,
      timeoutMillis,
      () => current?.socket.destroy(), // its state is unknown: never reuse it
      onSent,
    );
    const request = this.frame(message, headroom);

    const attempt = (net: NetModule, isRetry: boolean): void => {
      if (isSettled()) return;
      if (this.closed) {
        settle(new OtlpHttpError('OTLP exporter is shut down'));
        return;
      }
      const reused = this.idle !== undefined && !this.idle.socket.destroyed;
      const connection = reused ? (this.idle as Connection) : this.connect(net);
      this.idle = undefined;
      connection.detachIdle?.();
      current = connection;
      const { socket } = connection;
      adopt(socket);
      const parser = new Http1ResponseParser();
      const finish = (outcome: Http1Response | Error): void => {
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.removeListener('close', onClose);
        socket.removeListener('error', onError);
        if (outcome instanceof Error) {
          socket.destroy();
          if (reused && !parser.started && !isRetry && !isSettled()) {
            diag.debug(
              `otlp-http: request failed on a reused connection (${outcome.message}); retrying once`,
            );
            attempt(net, true);
            return;
          }
          settle(connectionError(outcome, parser.started));
          return;
        }
        connection.answeredAt = Date.now();
        this.release(connection, outcome.keepAlive);
        settle(statusError(outcome), outcome.body);
      };
      const onData = (chunk: Buffer): void => {
        let response: Http1Response | undefined;
        try {
          response = parser.feed(chunk);
        } catch (error) {
          finish(error as Error);
          return;
        }
        if (response) finish(response);
      };
      const onEnd = (): void => {
        try {
          finish(parser.end());
        } catch (error) {
          finish(error as Error);
        }
      };
      const onClose = (): void => finish(new Error('connection closed'));
      const onError = (error: Error): void => finish(error);
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onClose);
      socket.once('error', onError);
      const trusted = isTrustedConnection(reused, connection.answeredAt);
      socket.write(request, (error) => {
        if (!error && trusted) sent();
      });
      // Nothing left in the stream's buffer and no error: the kernel took the whole request inside
      // write() (the usual case on a connection to localhost). Sent now, not on the callback's later
      // turn, which the invocation's response would wait for. (A write that failed inside write(),
      // on a connection the collector reset while the process was frozen, also leaves the buffer
      // empty: `errored` tells it apart, and the retry reports it sent once written.)
      if (trusted && socket.writableLength === 0 && !socket.errored && !socket.destroyed) sent();
    };

    withBuiltin<NetModule>(
      'node:net',
      (net) => attempt(net, false),
      (error) => settle(asHttpError(error)),
    );
  }

  /** The request's bytes: the head in the free bytes before the body when they suffice, else a copy. */
  private frame(message: Buffer, headroom: number): Buffer {
    const head = `${this.headPrefix}${message.length - headroom}\r\n\r\n`;
    if (head.length > headroom) {
      return Buffer.concat([Buffer.from(head, 'latin1'), message.subarray(headroom)]);
    }
    const start = headroom - head.length;
    message.write(head, start, 'latin1');
    return message.subarray(start);
  }

  /** Requests in flight stop keeping the process alive; they go on. */
  releaseInFlight(): void {
    this.inFlight.releaseAll();
  }

  /** Closes the idle connection; later requests fail. (Requests in flight are not waited for.) */
  close(): Promise<void> {
    this.closed = true;
    this.idle?.socket.destroy();
    this.idle = undefined;
    return Promise.resolve();
  }

  private connect(net: NetModule): Connection {
    const socket = net.connect(this.address);
    socket.setNoDelay(true);
    // Never an uncaught 'error', whatever state the connection is in: the listeners of the request
    // or of the idle pool decide what an error means.
    socket.on('error', () => {});
    return { socket, answeredAt: undefined };
  }

  /** Keeps a connection for the next request (unref'd, dropped if the peer closes it), or closes it. */
  private release(connection: Connection, keepAlive: boolean): void {
    const { socket } = connection;
    if (!keepAlive || this.closed || (this.idle && !this.idle.socket.destroyed)) {
      socket.destroy();
      return;
    }
    socket.unref();
    const drop = (): void => {
      socket.destroy();
      if (this.idle === connection) this.idle = undefined;
    };
    // While idle: the peer closing, an error, or unexpected bytes all end the connection.
    const events = ['data', 'end', 'error', 'close'] as const;
    for (const event of events) socket.once(event, drop);
    connection.detachIdle = () => {
      for (const event of events) socket.removeListener(event, drop);
      connection.detachIdle = undefined;
    };
    this.idle = connection;
  }
}

/** A non-2xx response as an error naming the status and the collector's message. */
function statusError(response: Http1Response): OtlpHttpError | undefined {
  if (response.status >= 200 && response.status < 300) return undefined;
  return responseError(response.status, response.reason, response.headers.get('content-type'), response.body);
}
