import type { IncomingMessage, RequestOptions, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { Config } from '../config/load-config.js';
import { clientStartAttributes, isRuntimeApi, safeUrl } from './http-client-attributes.js';

/**
 * Outgoing calls through `http` and `https` (and so `axios`, `got`, `node-fetch`, the AWS SDK's
 * HTTP/1.1 handler...), with `@opentelemetry/instrumentation-http`.
 */
export async function loadHttpInstrumentation(config: Readonly<Config>): Promise<Instrumentation[]> {
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  return [new HttpInstrumentation(httpInstrumentationConfig(config.runtimeApi))];
}

/** The instrumentation's settings for a Lambda function; exported for the unit tests. */
export function httpInstrumentationConfig(runtimeApi: string | undefined): HttpInstrumentationConfig {
  return {
    // A function has no HTTP server of its own: its requests arrive as events and the invocation
    // span describes them. A server a handler starts (a test double, a local proxy) would only
    // add stray root spans outside the invocation's trace.
    disableIncomingRequestInstrumentation: true,
    // A call made outside an invocation (at module load, or by a timer that fires on a later thaw)
    // has no trace to join; as a root span it would be one more trace per cold start.
    requireParentforOutgoingSpans: true,
    ignoreOutgoingRequestHook: (options) =>
      isRuntimeApi(runtimeApi, options.hostname ?? options.host ?? undefined, options.port),
    startOutgoingSpanHook: (options) => clientStartAttributes(methodOf(options), safeUrl(urlOf(options))),
    responseHook: recordStatusCode,
  };
}

function methodOf(options: RequestOptions): string {
  return (options.method ?? 'GET').toUpperCase();
}

/**
 * The request's URL as the instrumentation sees it (options already parsed from a string or URL). A
 * request to a proxy names its target in absolute form (`path: 'http://example.com/x'`): that is
 * the URL, credentials and all, for `safeUrl` to clean.
 */
function urlOf(options: RequestOptions & { protocol?: string | null }): string {
  if (options.path !== undefined && options.path !== null && ABSOLUTE_URL.test(options.path))
    return options.path;
  const protocol = options.protocol ?? 'http:';
  const host = options.hostname ?? options.host ?? 'localhost';
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const port = options.port === undefined || options.port === null ? '' : `:${String(options.port)}`;
  return `${protocol}//${bracketed}${port}${options.path ?? '/'}`;
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The older status attribute the collector reads, and `error.type` for a status of 400 or above, as fetch and http2 spans have it. */
function recordStatusCode(span: Span, response: IncomingMessage | ServerResponse): void {
  const { statusCode } = response;
  if (typeof statusCode !== 'number') return;
  span.setAttribute('http.status_code', statusCode);
  if (statusCode >= 400) span.setAttribute('error.type', String(statusCode));
}
