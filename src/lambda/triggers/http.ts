import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { KNOWN_HTTP_METHODS as KNOWN_METHODS } from '../../semconv/http-methods.js';
import { isSensitiveName, queryFromParameters, redactRawQuery } from './redact.js';
import type { InvocationDescription, InvocationSource, ResultDescription } from './types.js';
import { capName, type Obj, obj, str } from './util.js';

/*
 * HTTP triggers: API Gateway REST APIs (payload 1.0), HTTP APIs (payload 1.0 or 2.0), Application
 * Load Balancers (1.0 shape) and function URLs (2.0 shape).
 *
 * Each request is recorded under both the stable HTTP semantic conventions (`http.request.method`,
 * `url.*`, `client.address`...) and the older names (`http.method`, `http.target`, `http.url`,
 * `http.client_ip`...) that the Collector's `awsxray` exporter turns into the segment's `http`
 * block; only the older names reach X-Ray with older collectors.
 */

/**
 * The only request headers recorded as `http.request.header.<name>`. The semantic conventions
 * require an explicit list: headers carry credentials and personal data. `user-agent` is not on it
 * because `user_agent.original` already holds it.
 */
export const CAPTURED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'x-forwarded-proto',
]);

interface ScannedHeaders {
  /** Lower-cased names to values, credentials left out: the propagation carrier. */
  readonly carrier: Record<string, string>;
  /** Allow-listed headers, as the string arrays the semantic conventions ask for. */
  readonly captured: Array<[string, string[]]>;
}

/**
 * One pass over the headers. Payload 1.0 events have `headers` (last value wins) and, for REST APIs
 * and multi-value ALB target groups, `multiValueHeaders`; an ALB in multi-value mode sends only the latter.
 */
function scanHeaders(single: unknown, multi: unknown): ScannedHeaders {
  const carrier: Record<string, string> = {};
  const captured = new Map<string, string[]>();
  const one = obj(single);
  if (one) {
    for (const name of Object.keys(one)) {
      const value = one[name];
      if (typeof value !== 'string') continue;
      const lower = name.toLowerCase();
      // Dropped here rather than filtered later so no credential is ever copied anywhere.
      if (isSensitiveName(lower)) continue;
      carrier[lower] = value;
      if (CAPTURED_REQUEST_HEADERS.has(lower)) captured.set(lower, [value]);
    }
  }
  const many = obj(multi);
  if (many) {
    for (const name of Object.keys(many)) {
      const lower = name.toLowerCase();
      // REST APIs send every header in both maps: one already seen needs no second look unless
      // its values are captured. `hasOwn`, not `in`: a header named `constructor` is no prototype member.
      const seen = Object.hasOwn(carrier, lower);
      if (seen && !CAPTURED_REQUEST_HEADERS.has(lower)) continue;
      const values = many[name];
      if (!Array.isArray(values)) continue;
      if (!seen && isSensitiveName(lower)) continue;
      const strings = values.filter((v): v is string => typeof v === 'string');
      if (strings.length === 0) continue;
      if (!seen) carrier[lower] = strings.join(',');
      if (CAPTURED_REQUEST_HEADERS.has(lower)) captured.set(lower, strings);
    }
  }
  return { carrier, captured: [...captured] };
}

/** The request, normalised from whichever payload shape carried it. */
interface HttpRequest {
  readonly source: InvocationSource;
  readonly payloadFormat: '1.0' | '2.0';
  readonly method: string | undefined;
  /** The route template (`/orders/{id}`), never the raw path; undefined when the integration has none. */
  readonly route: string | undefined;
  readonly path: string | undefined;
  /** Already redacted, without `?`; '' when there is none. */
  readonly query: string;
  readonly scheme: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly userAgent: string | undefined;
  readonly clientAddress: string | undefined;
  readonly protocolVersion: string | undefined;
  readonly headers: ScannedHeaders;
}

/**
 * Describes an event with a `requestContext` object, or returns undefined when it is not an HTTP
 * request this module knows (a WebSocket API event, for instance).
 */
export function describeHttp(event: Obj, requestContext: Obj): InvocationDescription | undefined {
  let request: HttpRequest | undefined;
  if (obj(requestContext.elb)) request = fromAlb(event);
  else if (event.version === '2.0' || obj(requestContext.http)) request = fromV2(event, requestContext);
  else if (typeof event.httpMethod === 'string') request = fromV1(event, requestContext);
  return request && describeRequest(request);
}

function fromV1(event: Obj, rc: Obj): HttpRequest {
  const headers = scanHeaders(event.headers, event.multiValueHeaders);
  const identity = obj(rc.identity);
  // HTTP APIs can send payload 1.0 too; only they set `version`, and their template is in routeKey.
  const isHttpApi = event.version === '1.0';
  return {
    source: isHttpApi ? 'api-gateway-http' : 'api-gateway-rest',
    payloadFormat: '1.0',
    method: str(event.httpMethod) ?? str(rc.httpMethod),
    route: isHttpApi ? routeFromRouteKey(str(rc.routeKey)) : (str(event.resource) ?? str(rc.resourcePath)),
    // requestContext.path is what the client asked for, stage prefix included; `path` drops it.
    path: str(rc.path) ?? str(event.path),
    query: queryFromParameters(event.queryStringParameters, event.multiValueQueryStringParameters, true),
    // REST APIs only listen on HTTPS; the header says so explicitly.
    scheme: headers.carrier['x-forwarded-proto'] ?? 'https',
    host: str(rc.domainName) ?? hostOnly(headers.carrier.host),
    port: portOf(headers.carrier['x-forwarded-port']),
    userAgent: headers.carrier['user-agent'] ?? str(identity?.userAgent),
    clientAddress: str(identity?.sourceIp) ?? firstForwarded(headers.carrier['x-forwarded-for']),
    protocolVersion: protocolVersionOf(str(rc.protocol)),
    headers,
  };
}

function fromV2(event: Obj, rc: Obj): HttpRequest {
  const headers = scanHeaders(event.headers, undefined);
  const http = obj(rc.http);
  const domain = str(rc.domainName);
  const rawQuery = event.rawQueryString;
  return {
    source: isFunctionUrlDomain(domain) ? 'function-url' : 'api-gateway-http',
    payloadFormat: '2.0',
    method: str(http?.method),
    route: routeFromRouteKey(str(event.routeKey) ?? str(rc.routeKey)),
    path: str(event.rawPath) ?? str(http?.path),
    query: typeof rawQuery === 'string' ? redactRawQuery(rawQuery) : '',
    // HTTP APIs and function URLs only listen on HTTPS.
    scheme: headers.carrier['x-forwarded-proto'] ?? 'https',
    host: domain ?? hostOnly(headers.carrier.host),
    port: portOf(headers.carrier['x-forwarded-port']),
    userAgent: headers.carrier['user-agent'] ?? str(http?.userAgent),
    clientAddress: str(http?.sourceIp) ?? firstForwarded(headers.carrier['x-forwarded-for']),
    protocolVersion: protocolVersionOf(str(http?.protocol)),
    headers,
  };
}

function fromAlb(event: Obj): HttpRequest {
  const headers = scanHeaders(event.headers, event.multiValueHeaders);
  return {
    source: 'alb',
    payloadFormat: '1.0',
    method: str(event.httpMethod),
    // A target group has no route template: ALB rules match paths, not parameters.
    route: undefined,
    path: str(event.path),
    // ALB passes the query as the client sent it, still percent-encoded.
    query: queryFromParameters(event.queryStringParameters, event.multiValueQueryStringParameters, false),
    // ALB listeners may be HTTP or HTTPS: only the header it adds knows which.
    scheme: headers.carrier['x-forwarded-proto'],
    host: hostOnly(headers.carrier.host),
    port: portOf(headers.carrier['x-forwarded-port']),
    userAgent: headers.carrier['user-agent'],
    clientAddress: firstForwarded(headers.carrier['x-forwarded-for']),
    protocolVersion: undefined,
    headers,
  };
}

function describeRequest(request: HttpRequest): InvocationDescription {
  const rawMethod = request.method;
  const method = rawMethod === undefined ? undefined : KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
  const attributes: Attributes = { 'faas.trigger': 'http' };
  if (method !== undefined) {
    attributes['http.request.method'] = method;
    attributes['http.method'] = method;
    if (method === '_OTHER') attributes['http.request.method_original'] = capName(rawMethod as string, 32);
  }
  const { route, path, query, scheme, host, port } = request;
  if (route !== undefined) attributes['http.route'] = route;
  if (path !== undefined) {
    attributes['url.path'] = path;
    attributes['http.target'] = query === '' ? path : `${path}?${query}`;
  }
  if (query !== '') attributes['url.query'] = query;
  if (scheme !== undefined) {
    attributes['url.scheme'] = scheme;
    attributes['http.scheme'] = scheme;
  }
  if (host !== undefined) {
    attributes['server.address'] = host;
    attributes['net.host.name'] = host;
  }
  if (port !== undefined) attributes['server.port'] = port;
  if (scheme !== undefined && host !== undefined && path !== undefined) {
    const defaultPort = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80);
    const authority = port === undefined || defaultPort ? host : `${host}:${port}`;
    const url = `${scheme}://${authority}${path}${query === '' ? '' : `?${query}`}`;
    attributes['url.full'] = url;
    attributes['http.url'] = url;
  }
  if (request.userAgent !== undefined) {
    attributes['user_agent.original'] = request.userAgent;
    attributes['http.user_agent'] = request.userAgent;
  }
  if (request.clientAddress !== undefined) {
    attributes['client.address'] = request.clientAddress;
    attributes['http.client_ip'] = request.clientAddress;
  }
  if (request.protocolVersion !== undefined) attributes['network.protocol.version'] = request.protocolVersion;
  for (const [name, values] of request.headers.captured) attributes[`http.request.header.${name}`] = values;

  // Semantic conventions: `{method} {http.route}`, or `{method}` alone when there is no template,
  // because a raw path holds IDs and would make one span name per order, user, file...
  const nameMethod = method === undefined || method === '_OTHER' ? 'HTTP' : method;
  return {
    trigger: 'http',
    source: request.source,
    spanName: route === undefined ? nameMethod : `${nameMethod} ${route}`,
    // SERVER: the X-Ray exporter makes a SERVER span a segment of its own, named after the service.
    kind: SpanKind.SERVER,
    attributes,
    incomingHeaders: request.headers.carrier,
    payloadFormat: request.payloadFormat,
  };
}

/**
 * HTTP API route keys are `METHOD /template` (`GET /orders/{id}`, `ANY /{proxy+}`) or `$default`,
 * which matches any path and so names no template.
 */
function routeFromRouteKey(routeKey: string | undefined): string | undefined {
  if (routeKey === undefined || routeKey === '$default') return undefined;
  const space = routeKey.indexOf(' ');
  const route = space === -1 ? routeKey : routeKey.slice(space + 1);
  return route.startsWith('/') ? route : undefined;
}

/** `<url-id>.lambda-url.<region>.on.aws` is the only domain a function URL is served on. */
function isFunctionUrlDomain(domain: string | undefined): boolean {
  if (domain === undefined) return false;
  return domain.endsWith('.on.aws') && domain.includes('.lambda-url.');
}

/** The first (client's) address of an `X-Forwarded-For` list. */
function firstForwarded(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const comma = header.indexOf(',');
  return str((comma === -1 ? header : header.slice(0, comma)).trim());
}

/** A Host header without its port. */
function hostOnly(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : str(host.slice(0, colon));
}

function portOf(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const port = Number(header);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/** `HTTP/1.1` → `1.1`; `HTTP/2.0` → `2`, the form the semantic conventions use. */
function protocolVersionOf(protocol: string | undefined): string | undefined {
  if (protocol === undefined) return undefined;
  const slash = protocol.indexOf('/');
  const version = slash === -1 ? protocol : protocol.slice(slash + 1);
  if (version === '2.0') return '2';
  if (version === '3.0') return '3';
  return str(version);
}

/** What the handler's result says about the response, or why it cannot be a response. */
function statusCodeOf(result: unknown): number | 'absent' | 'invalid' {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return 'absent';
  const code = (result as { statusCode?: unknown }).statusCode;
  if (code === undefined) return 'absent';
  // API Gateway takes an integer; a numeric string is tolerated the way JSON numbers are.
  const n =
    typeof code === 'number'
      ? code
      : typeof code === 'string' && code.length === 3
        ? Number(code)
        : Number.NaN;
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : 'invalid';
}

const MALFORMED = 'the handler returned no valid statusCode; the gateway answers 502';

/**
 * The response status of an HTTP invocation, from the handler's result.
 *
 * - A `statusCode` in the result is the status.
 * - Payload 2.0 (HTTP APIs, function URLs): a result without `statusCode` (a string, a bare
 *   object, `undefined`) is sent as a 200 with the result as JSON body: API Gateway's documented
 *   inference for that format.
 * - Payload 1.0 (REST APIs, ALB): such a result is a "Malformed Lambda proxy response"; the client
 *   gets a 502, so the span says 502 and is a fault, although the handler returned.
 *
 * 5xx sets the span status to ERROR (an X-Ray fault). 4xx does not: the semantic conventions keep
 * SERVER spans unset for client errors, and the `awsxray` exporter marks the segment as an error
 * (429 as throttled too) from the status code attribute alone, whatever the span status.
 */
export function describeHttpResult(description: InvocationDescription, result: unknown): ResultDescription {
  const parsed = statusCodeOf(result);
  let code: number;
  let malformed = false;
  if (typeof parsed === 'number') code = parsed;
  else if (parsed === 'absent' && description.payloadFormat === '2.0') code = 200;
  else {
    code = 502;
    malformed = true;
  }
  // Integers, not strings: the exporter reads them as integers.
  const attributes: Attributes = { 'http.response.status_code': code, 'http.status_code': code };
  if (code < 500) return { attributes };
  attributes['error.type'] = String(code);
  return {
    attributes,
    status: malformed ? { code: SpanStatusCode.ERROR, message: MALFORMED } : { code: SpanStatusCode.ERROR },
  };
}
