/**
 * What the layer's three HTTP clients (http/https, undici/fetch, http2) record the same way.
 *
 * URLs: the semantic conventions forbid credentials in `url.full`, and instrumentation-http only
 * redacts a handful of signing parameters (undici none), so the URL is rebuilt here with the
 * user-info dropped and the values of sensitive query parameters replaced by `REDACTED`, by the
 * same rule as incoming requests. The fragment never leaves the client, so it is dropped too.
 *
 * Older attribute names: the collector's `awsxray` exporter builds the subsegment's `http` block from
 * `http.method`, `http.url` and `http.status_code` (older collectors read nothing else), so they
 * are written beside the stable `http.request.method`, `url.full` and `http.response.status_code`.
 */
import type { Attributes } from '@opentelemetry/api';
import { redactRawQuery } from '../lambda/triggers/redact.js';

/** A URL safe to record: no `user:password@`, sensitive query values `REDACTED`, no `#fragment`. */
export function safeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL the WHATWG parser accepts: keep only what cannot hold a secret.
    const cut = raw.search(/[?#]/);
    const withoutQuery = cut === -1 ? raw : raw.slice(0, cut);
    return withoutQuery.replace(/\/\/[^/@]*@/, '//');
  }
  const query = url.search === '' ? '' : redactRawQuery(url.search.slice(1));
  const authority = url.port === '' ? url.hostname : `${url.hostname}:${url.port}`;
  return `${url.protocol}//${authority}${url.pathname}${query === '' ? '' : `?${query}`}`;
}

/** The redacted query of a URL made by {@link safeUrl}, without `?`; '' when it has none. */
export function queryOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}

/** The attributes every client span gets at its start, older names included. */
export function clientStartAttributes(method: string, url: string): Attributes {
  return { 'url.full': url, 'http.url': url, 'http.method': method };
}

/**
 * Whether a request goes to the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`, `host:port`): the
 * runtime's own calls there (fetching the next event, posting the response) are not the function's.
 */
export function isRuntimeApi(
  runtimeApi: string | undefined,
  host: string | undefined,
  port: unknown,
): boolean {
  if (runtimeApi === undefined || host === undefined) return false;
  if (host === runtimeApi) return true;
  return port !== undefined && port !== null && `${host}:${String(port)}` === runtimeApi;
}
