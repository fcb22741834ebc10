import { isIP } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { type AttributeReader, truncate } from './attribute-reader.js';
import type { XRayHttp } from './segment-types.js';

/** The schema caps `http.request.{method,url,user_agent,client_ip}` at 250 characters. */
const MAX_REQUEST_FIELD = 250;

/**
 * Keys only HTTP spans carry: one of them makes a span an HTTP span. The peer and server
 * address keys are not among them, since database and messaging spans have those too.
 */
const HTTP_MARKER_KEYS = [
  'http.method',
  'http.request.method',
  'http.url',
  'url.full',
  'http.target',
  'url.path',
  'http.scheme',
  'url.scheme',
  'http.host',
  'http.server_name',
  'http.status_code',
  'http.response.status_code',
  'http.user_agent',
  'user_agent.original',
  'http.client_ip',
];

/**
 * Every attribute the `http` block reads, old (semconv < 1.21) and stable HTTP conventions alike,
 * left out of metadata once used (the collector filters the same way).
 */
const HTTP_KEYS = [
  ...HTTP_MARKER_KEYS,
  'http.request.method_original',
  'url.query',
  'client.address',
  'net.peer.ip',
  'network.peer.address',
  'net.host.name',
  'net.host.port',
  'net.peer.name',
  'net.peer.port',
  'server.address',
  'server.port',
  'http.response_content_length',
  'http.response.body.size',
];

/**
 * The HTTP status code of the span, from `http.response.status_code` or `http.status_code`;
 * the collector bases `error`/`fault`/`throttle` on it.
 */
export function httpStatusCode(attrs: AttributeReader): number | undefined {
  const status = attrs.number('http.response.status_code', 'http.status_code');
  return status === undefined ? undefined : Math.trunc(status);
}

/**
 * Builds the `http` block of an HTTP server or client span, or returns `undefined` when the span
 * carries no HTTP attribute (as the collector does, it then writes no `http` block at all).
 *
 * The URL is `url.full`/`http.url` when present, else assembled from scheme, host, port and
 * target; its user info is removed and it is cut to the schema's 250 characters.
 */
export function makeHttpBlock(attrs: AttributeReader, kind: SpanKind): XRayHttp | undefined {
  if (!attrs.has(...HTTP_MARKER_KEYS)) return undefined;

  const method = requestMethod(attrs);
  const url = requestUrl(attrs, kind);
  const userAgent = attrs.string('user_agent.original', 'http.user_agent');
  const status = httpStatusCode(attrs);
  const client = clientAddress(attrs, kind);
  const contentLength = attrs.number('http.response.body.size', 'http.response_content_length');

  attrs.consume(...HTTP_KEYS);

  const request: NonNullable<XRayHttp['request']> = {};
  if (method !== undefined) request.method = truncate(method, MAX_REQUEST_FIELD);
  if (url !== undefined) request.url = truncate(url, MAX_REQUEST_FIELD);
  if (userAgent !== undefined) request.user_agent = truncate(userAgent, MAX_REQUEST_FIELD);
  if (client !== undefined) {
    request.client_ip = truncate(client.ip, MAX_REQUEST_FIELD);
    if (client.forwarded) request.x_forwarded_for = true;
  }

  const response: NonNullable<XRayHttp['response']> = {};
  if (status !== undefined) response.status = status;
  if (contentLength !== undefined && contentLength >= 0) response.content_length = contentLength;

  const block: XRayHttp = {};
  if (Object.keys(request).length > 0) block.request = request;
  if (Object.keys(response).length > 0) block.response = response;
  return block;
}

function requestMethod(attrs: AttributeReader): string | undefined {
  const method = attrs.string('http.request.method', 'http.method');
  // Stable semconv writes "_OTHER" for unknown methods and keeps the real one aside.
  if (method === '_OTHER') return attrs.string('http.request.method_original') ?? method;
  return method;
}

/**
 * The client's address. A forwarded address (`http.client_ip`, `client.address` that differs
 * from the socket peer) sets `x_forwarded_for`, as in the collector. The socket peer
 * (`net.peer.ip`, `network.peer.address`) is the client only on a server span: on a client span
 * it is the server's address, which X-Ray would show as the caller's.
 */
function clientAddress(
  attrs: AttributeReader,
  kind: SpanKind,
): { ip: string; forwarded: boolean } | undefined {
  const peer = kind === SpanKind.SERVER ? attrs.string('network.peer.address', 'net.peer.ip') : undefined;
  const forwarded = attrs.string('http.client_ip') ?? validIp(attrs.string('client.address'));
  if (forwarded !== undefined) return { ip: forwarded, forwarded: forwarded !== peer };
  return peer === undefined ? undefined : { ip: peer, forwarded: false };
}

function validIp(address: string | undefined): string | undefined {
  return address !== undefined && isIP(address) !== 0 ? address : undefined;
}

function requestUrl(attrs: AttributeReader, kind: SpanKind): string | undefined {
  const full = attrs.string('url.full', 'http.url');
  if (full !== undefined) return withoutUserInfo(full);

  const isServer = kind === SpanKind.SERVER;
  const httpHost = attrs.string('http.host');
  const host =
    httpHost ??
    (isServer
      ? attrs.string('server.address', 'http.server_name', 'net.host.name', 'host.name')
      : attrs.string('server.address', 'net.peer.name', 'net.peer.ip', 'network.peer.address'));
  // Without a host there is no URL worth writing (the collector's rule too).
  if (host === undefined) return undefined;

  const scheme = attrs.string('url.scheme', 'http.scheme') ?? 'http';
  // `http.host` already carries the port when it is not the default.
  const port =
    httpHost === undefined
      ? attrs.string('server.port', isServer ? 'net.host.port' : 'net.peer.port')
      : undefined;
  const showPort =
    port !== undefined && !(scheme === 'http' && port === '80') && !(scheme === 'https' && port === '443');

  let target = attrs.string('http.target');
  if (target === undefined) {
    const path = attrs.string('url.path') ?? '/';
    const query = attrs.string('url.query');
    target = query === undefined ? path : `${path}${query.startsWith('?') ? '' : '?'}${query}`;
  }
  return `${scheme}://${host}${showPort ? `:${port}` : ''}${target}`;
}

/**
 * Removes `user:password@` from a URL (or a JDBC URL, `jdbc:postgresql://`): X-Ray must never
 * store credentials. The user info runs to the last `@` of the authority, as URL parsers read it
 * (a password may hold an `@`).
 */
export function withoutUserInfo(url: string): string {
  return url.replace(/^((?:jdbc:)?[a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
}
