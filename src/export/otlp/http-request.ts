/**
 * What the two OTLP/HTTP clients share (`PlainHttpClient` for `http:`, `OtlpHttpClient` on
 * `node:https`): the error and callback types, how an error answer is described, when a kept-alive
 * connection is trusted, and the bookkeeping of requests in flight.
 */
import { readStatusMessage } from './decode-export-response.js';

/** A response body larger than this is not kept (a success response is a few bytes). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A kept-alive connection last answered within this long is trusted to be alive, for `onSent`.
 * Longer idle (Lambda may have frozen the process for minutes) and the collector may have closed it
 * unseen; collectors keep idle connections for a minute or more.
 */
const TRUSTED_IDLE_MS = 10_000;

/** Whether a request written on this connection may be reported sent before its answer. */
export function isTrustedConnection(reused: boolean, answeredAt: number | undefined): boolean {
  return !reused || (answeredAt !== undefined && Date.now() - answeredAt < TRUSTED_IDLE_MS);
}

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

/** How one request is sent (see `OtlpHttpClient.post`). */
export interface PostOptions {
  /** Deadline of the request, connection included. */
  timeoutMillis: number;
  /** Called once the request is in the kernel on a connection known to be alive. */
  onSent?: () => void;
  /** Bytes at the start of the message that are not part of the body (default 0). */
  headroom?: number;
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

/** One request in flight, see {@link InFlightRequests.start}. */
export interface RequestInFlight {
  /** Reports the outcome; only the first call counts. */
  settle(error: OtlpHttpError | undefined, responseBody?: Buffer): void;
  isSettled(): boolean;
  /**
   * The connection an attempt uses: it keeps the process alive until the request is released (a
   * retry's new connection included), then no longer.
   */
  adopt(socket: { ref(): unknown; unref(): unknown }): void;
  /** The request stops keeping the process alive (it goes on). */
  release(): void;
  /** The request was written on a trusted connection: released, and `onSent` called, once. */
  sent(): void;
}

/** A client's requests in flight: one outcome each, a deadline each, and a way to let them go. */
export class InFlightRequests {
  private readonly releases = new Set<() => void>();

  /**
   * Starts one request: `callback` gets its outcome once, or a timeout error after `timeoutMillis`
   * (`onTimeout` first, to drop a connection whose state is then unknown).
   */
  start(
    callback: PostCallback,
    timeoutMillis: number,
    onTimeout: () => void,
    onSent: (() => void) | undefined,
  ): RequestInFlight {
    let settled = false;
    let released = false;
    let reportedSent = false;
    let socket: { ref(): unknown; unref(): unknown } | undefined;
    const release = (): void => {
      released = true;
      socket?.unref();
      timer.unref();
    };
    const settle = (error: OtlpHttpError | undefined, responseBody?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.releases.delete(release);
      callback(error, responseBody);
    };
    const timer = setTimeout(() => {
      onTimeout();
      settle(new OtlpHttpError(`OTLP export timed out: no HTTP response within ${timeoutMillis} ms`));
    }, timeoutMillis);
    this.releases.add(release);
    return {
      settle,
      isSettled: () => settled,
      adopt: (next) => {
        socket = next;
        if (released) next.unref();
        else next.ref();
      },
      release,
      sent: () => {
        if (reportedSent || settled || !onSent) return;
        reportedSent = true;
        // The answer must not keep the event loop busy now (a callback handler's runtime waits for
        // it to empty before it answers).
        release();
        onSent();
      },
    };
  }

  /** Every request in flight stops keeping the process alive; they go on. */
  releaseAll(): void {
    for (const release of this.releases) release();
  }
}

/** Any failure as an {@link OtlpHttpError}. */
export function asHttpError(error: unknown): OtlpHttpError {
  if (error instanceof OtlpHttpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OtlpHttpError(`OTLP export failed: ${message}`, { cause: error });
}

/** A connection that failed or closed, before or during the answer. */
export function connectionError(error: Error, gotResponse: boolean): OtlpHttpError {
  return new OtlpHttpError(
    `OTLP export failed${gotResponse ? '' : ' before any response'}: ${error.message}`,
    {
      cause: error,
    },
  );
}

/** A URL's host as sockets and `http.request` take it: an IPv6 literal without its brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Where a cleartext `http:` URL connects: its bare host name and its port (80 when left out). */
export function cleartextAddress(url: URL): { readonly host: string; readonly port: number } {
  return { host: bareHostname(url), port: url.port === '' ? 80 : Number(url.port) };
}

/** Built-in modules already loaded: every request asks again, and the lookup is not free after a freeze. */
const loadedBuiltins = new Map<string, unknown>();

/**
 * A Node built-in, loaded on first use rather than at import: synchronously with
 * `process.getBuiltinModule` (Node >= 20.16, 22.3), by `import()` on older Node; then remembered
 * (with the instrumentations on, `getBuiltinModule` goes through require-in-the-middle's hook).
 */
function loadBuiltin<T>(name: string): T | Promise<T> {
  const known = loadedBuiltins.get(name) as T | undefined;
  if (known !== undefined) return known;
  const builtin =
    typeof process.getBuiltinModule === 'function'
      ? (process.getBuiltinModule(name) as T | undefined)
      : undefined;
  if (builtin !== undefined) {
    loadedBuiltins.set(name, builtin);
    return builtin;
  }
  return (import(name) as Promise<T>).then((module) => {
    loadedBuiltins.set(name, module);
    return module;
  });
}

/** Runs `use` with the built-in `name`, at once when it loads synchronously; `fail` if it cannot load. */
export function withBuiltin<T>(name: string, use: (module: T) => void, fail: (error: unknown) => void): void {
  const loaded = loadBuiltin<T>(name);
  if (loaded instanceof Promise) loaded.then(use, fail);
  else use(loaded);
}
