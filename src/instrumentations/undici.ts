import type { Attributes } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { UndiciInstrumentationConfig, UndiciRequest } from '@opentelemetry/instrumentation-undici';
import type { Config } from '../config/load-config.js';
import { clientStartAttributes, isRuntimeApi, queryOf, safeUrl } from './http-client-attributes.js';

/**
 * Outgoing calls through Node's global `fetch` and the `undici` package, with
 * `@opentelemetry/instrumentation-undici`. It listens on undici's diagnostics channels, which both
 * publish, so it patches no module.
 */
export async function loadUndiciInstrumentation(config: Readonly<Config>): Promise<Instrumentation[]> {
  const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
  return [new UndiciInstrumentation(undiciInstrumentationConfig(config.runtimeApi))];
}

/** The instrumentation's settings for a Lambda function; exported for the unit tests. */
export function undiciInstrumentationConfig(runtimeApi: string | undefined): UndiciInstrumentationConfig {
  return {
    // As for http: a call outside an invocation has no trace to join.
    requireParentforSpans: true,
    ignoreRequestHook: (request) => {
      const origin = hostAndPort(request.origin);
      return origin !== undefined && isRuntimeApi(runtimeApi, origin.host, origin.port);
    },
    startSpanHook: startAttributes,
    responseHook: (span, { response }) => span.setAttribute('http.status_code', response.statusCode),
  };
}

/**
 * Replaces the instrumentation's `url.full` and `url.query`, which it records as the caller wrote
 * them, secrets included.
 */
function startAttributes(request: UndiciRequest): Attributes {
  let raw: string;
  try {
    raw = new URL(request.path, request.origin).href;
  } catch {
    raw = String(request.origin);
  }
  const url = safeUrl(raw);
  const attributes = clientStartAttributes(request.method.toUpperCase(), url);
  const query = queryOf(url);
  if (query !== '') attributes['url.query'] = query;
  return attributes;
}

function hostAndPort(origin: unknown): { host: string; port: string } | undefined {
  try {
    const url = new URL(String(origin));
    return { host: url.hostname, port: url.port };
  } catch {
    return undefined;
  }
}
