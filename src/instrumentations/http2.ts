/**
 * Client spans for `http2.connect(...).request(...)`. OpenTelemetry's contrib packages instrument
 * HTTP/1.1 (`http`, `https`) and undici, not `node:http2` sessions, so this one is the layer's own.
 *
 * The layer's OTLP exporter speaks gRPC over `node:http2` itself: its calls run with tracing
 * suppressed (`LambdaSpanProcessor`), and this instrumentation honours that, or every export
 * would make a span that the next export sends, and so on.
 */
import { errorMonitor } from 'node:events';
import type * as http2 from 'node:http2';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import {
  type Instrumentation,
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { DISTRO_VERSION } from '../lambda/function-resource.js';
import { KNOWN_HTTP_METHODS as KNOWN_METHODS } from '../semconv/http-methods.js';
import { clientStartAttributes, safeUrl } from './http-client-attributes.js';

type Http2Module = typeof http2;
type Connect = Http2Module['connect'];
type SessionRequest = http2.ClientHttp2Session['request'];

// nghttp2's NO_ERROR: a stream closed with any other code was reset.
const NO_ERROR = 0;

/** Loads the http2 client instrumentation (the registry's lazy entry). */
export async function loadHttp2Instrumentation(): Promise<Instrumentation[]> {
  return [new Http2ClientInstrumentation()];
}

/** Instruments the client side of `node:http2`: one CLIENT span per stream a session opens. */
export class Http2ClientInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('otel-lambda-xray-http2', DISTRO_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'http2',
        ['*'],
        (exports: Http2Module) => this.patch(exports),
        (exports: Http2Module | undefined) => this.unpatch(exports),
      ),
    ];
  }

  private patch(exports: Http2Module): Http2Module {
    // Reached through `require` (the CommonJS object) and through `import` (a namespace whose
    // `default` is that same object): whichever comes second finds it wrapped already.
    if (!isWrapped(exports.connect)) this._wrap(exports, 'connect', (original) => this.wrapConnect(original));
    const commonJs = (exports as { default?: Http2Module }).default;
    if (commonJs !== undefined && commonJs !== exports && !isWrapped(commonJs.connect)) {
      this._wrap(commonJs, 'connect', (original) => this.wrapConnect(original));
    }
    return exports;
  }

  private unpatch(exports: Http2Module | undefined): void {
    if (exports === undefined) return;
    if (isWrapped(exports.connect)) this._unwrap(exports, 'connect');
    const commonJs = (exports as { default?: Http2Module }).default;
    if (commonJs !== undefined && isWrapped(commonJs.connect)) this._unwrap(commonJs, 'connect');
  }

  private wrapConnect(original: Connect): Connect {
    const instrumentation = this;
    return function connect(this: unknown, ...args: Parameters<Connect>) {
      const session = (original as (...a: unknown[]) => http2.ClientHttp2Session).apply(this, args);
      // A session opened with tracing suppressed is the layer's own (the exporter's): never traced.
      if (isTracingSuppressed(context.active())) return session;
      try {
        instrumentation.wrapSession(session, originOf(args[0]));
      } catch (error) {
        instrumentation._diag.debug(`http2 session not instrumented: ${String(error)}`);
      }
      return session;
    } as Connect;
  }

  private wrapSession(session: http2.ClientHttp2Session, origin: URL | undefined): void {
    const original = session.request;
    const instrumentation = this;
    // An own property on this session: the class behind it is not exported to patch its prototype.
    session.request = function request(this: http2.ClientHttp2Session, headers, options) {
      const parent = context.active();
      // Node 22.17 and 24 also take the headers as a raw array, `[name, value, name, value, ...]`.
      const raw: unknown[] | undefined = Array.isArray(headers) ? headers : undefined;
      const span = isTracingSuppressed(parent)
        ? undefined
        : instrumentation.startSpan(parent, raw ? headersOfRaw(raw) : headers, origin);
      if (span === undefined) return original.call(this, headers, options);
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(parent, span), carrier);
      // (A raw array goes to `request` as the caller gave it, with the trace headers added.)
      const outgoing = (
        raw ? withRawHeaders(raw, carrier) : { ...headers, ...carrier }
      ) as http2.OutgoingHttpHeaders;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = original.call(this, outgoing, options);
      } catch (error) {
        endWithError(span, error);
        throw error;
      }
      observe(stream, span);
      // The caller's listeners run in the caller's context, not the client span's.
      return context.bind(parent, stream);
    } as SessionRequest;
  }

  /** A span for one request, or none when the request is outside any traced work. */
  private startSpan(
    parent: Context,
    headers: http2.OutgoingHttpHeaders | undefined,
    origin: URL | undefined,
  ): Span | undefined {
    // Like the other clients: a call with no span to belong to (module load, a stray timer) is skipped.
    if (trace.getSpan(parent) === undefined) return undefined;
    const rawMethod = String(headers?.[':method'] ?? 'GET').toUpperCase();
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
    const scheme = String(headers?.[':scheme'] ?? origin?.protocol.slice(0, -1) ?? 'https');
    const authority = String(headers?.[':authority'] ?? origin?.host ?? 'localhost');
    const url = safeUrl(`${scheme}://${authority}${String(headers?.[':path'] ?? '/')}`);
    const attributes: Attributes = {
      ...clientStartAttributes(method, url),
      'http.request.method': method,
      'url.scheme': scheme,
      'network.protocol.name': 'http',
      'network.protocol.version': '2',
    };
    if (method === '_OTHER') attributes['http.request.method_original'] = rawMethod;
    const server = serverOf(authority, scheme);
    attributes['server.address'] = server.address;
    if (server.port !== undefined) attributes['server.port'] = server.port;
    return this.tracer.startSpan(
      method === '_OTHER' ? 'HTTP' : method,
      { kind: SpanKind.CLIENT, attributes },
      parent,
    );
  }
}

/** Ends the span when the stream closes, with the response status or what went wrong. */
function observe(stream: http2.ClientHttp2Stream, span: Span): void {
  let status: number | undefined;
  let failed = false;
  let timedOut = false;
  stream.once('response', (headers) => {
    const code = Number(headers[':status']);
    if (!Number.isInteger(code)) return;
    status = code;
    span.setAttributes({ 'http.response.status_code': code, 'http.status_code': code });
    if (code >= 400) {
      // Client spans: 4xx and 5xx are both errors of the call (semantic conventions, HTTP client spans).
      span.setAttribute('error.type', String(code));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  });
  stream.once('timeout', () => {
    timedOut = true;
  });
  // errorMonitor observes errors without handling them: a stream error the caller ignores must
  // still reach the process as it would untraced.
  stream.on(errorMonitor, (error: unknown) => {
    if (failed) return;
    failed = true;
    recordError(span, error, timedOut);
  });
  stream.once('close', () => {
    if (!failed && status === undefined && stream.rstCode !== undefined && stream.rstCode !== NO_ERROR) {
      const message = timedOut
        ? `HTTP/2 stream timed out and was reset (code ${stream.rstCode})`
        : `HTTP/2 stream reset before a response (code ${stream.rstCode})`;
      span.setAttribute('error.type', timedOut ? 'timeout' : 'stream_reset');
      span.recordException({ name: timedOut ? 'TimeoutError' : 'StreamResetError', message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end();
  });
}

function recordError(span: Span, error: unknown, timedOut: boolean): void {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  span.setAttribute('error.type', timedOut ? 'timeout' : typeof code === 'string' ? code : err.name);
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

function endWithError(span: Span, error: unknown): void {
  recordError(span, error, false);
  span.end();
}

function originOf(authority: unknown): URL | undefined {
  try {
    return authority instanceof URL ? authority : new URL(String(authority));
  } catch {
    return undefined;
  }
}

function serverOf(authority: string, scheme: string): { address: string; port: number | undefined } {
  try {
    const url = new URL(`${scheme}://${authority}`);
    const port = url.port === '' ? (scheme === 'http' ? 80 : 443) : Number(url.port);
    return { address: url.hostname, port };
  } catch {
    return { address: authority, port: undefined };
  }
}

/** The headers of a raw array, `[name, value, ...]`, by lower-case name (the first value of each). */
function headersOfRaw(raw: readonly unknown[]): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    if (!(name in headers)) headers[name] = raw[i + 1] as string;
  }
  return headers;
}

/** A copy of a raw header array with `added` in place of any pair of the same names. */
function withRawHeaders(raw: readonly unknown[], added: Record<string, string>): unknown[] {
  const names = new Set(Object.keys(added).map((name) => name.toLowerCase()));
  const kept: unknown[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (i + 1 < raw.length && names.has(String(raw[i]).toLowerCase())) continue;
    kept.push(...raw.slice(i, i + 2));
  }
  for (const [name, value] of Object.entries(added)) kept.push(name, value);
  return kept;
}
