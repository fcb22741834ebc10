/**
 * Validation of the exporter's endpoint and metadata, done once at construction so that a bad
 * setting is reported once (by name, never by value) instead of failing every export.
 */
import { diag } from '@opentelemetry/api';

/**
 * The `scheme://host:port` to connect to. The gRPC path is fixed by the service, so a path in
 * `url` is ignored; a URL without a scheme (`host:port`) is taken as cleartext, like gRPC targets.
 *
 * @throws Error when the URL cannot be parsed or its scheme is neither http nor https.
 */
export function grpcOrigin(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  return parseEndpoint(withScheme, 'OTLP/gRPC').origin;
}

/** `url` parsed, when it is an http(s) URL; else an error that names the exporter, not the URL. */
function parseEndpoint(url: string, exporter: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${exporter} exporter: the endpoint URL is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(
      `${exporter} exporter: unsupported endpoint scheme '${parsed.protocol}' (use http: or https:)`,
    );
  }
  return parsed;
}

/** Header names a request sets itself, or that HTTP forbids a client to set (RFC 9113 §8.2.2). */
const RESERVED_NAMES = new Set([
  'content-type',
  'content-length',
  'te',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** How one transport names and checks its headers. */
interface HeaderRules {
  /** For warnings: `gRPC metadata` or `an HTTP header`. */
  readonly kind: string;
  readonly validName: RegExp;
  readonly validValue: RegExp;
  readonly reservedPrefix?: string;
}

const GRPC_RULES: HeaderRules = {
  kind: 'gRPC metadata',
  // gRPC Header-Name: lower-case letters, digits, `_`, `-`, `.` (PROTOCOL-HTTP2.md "Custom-Metadata").
  validName: /^[0-9a-z_.-]+$/,
  // gRPC ASCII-Value: printable ASCII, space included. (`-bin` values are base64, a subset.)
  validValue: /^[\x20-\x7e]*$/,
  reservedPrefix: 'grpc-',
};

const HTTP_RULES: HeaderRules = {
  kind: 'an HTTP header',
  // field-name = token (RFC 9110 §5.1), lower-cased below.
  validName: /^[!#$%&'*+.^_`|~0-9a-z-]+$/,
  // field-value without control characters (RFC 9110 §5.5): no CR/LF injection.
  validValue: /^[\t\x20-\x7e]*$/,
};

/**
 * Custom metadata from user headers: names lower-cased (HTTP/2 header names are lower case, as
 * gRPC metadata keys are), invalid or reserved entries dropped with a warning naming only the key,
 * as values are often credentials.
 */
export function toGrpcMetadata(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return usableHeaders(headers, 'grpc', warnDropped);
}

/** Request headers for OTLP/HTTP from user headers, checked like {@link toGrpcMetadata}. */
export function toHttpHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return usableHeaders(headers, 'http/protobuf', warnDropped);
}

const warnDropped = (problem: string): void => diag.warn(`OTLP exporter: ${problem}`);

/**
 * The headers the protocol can send, names lower-cased; each one dropped is reported to `report`
 * by its name only (values are often credentials). The configuration checks them with it first,
 * so its warning names the variable to fix; the exporters check again for other callers.
 */
export function usableHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  protocol: 'grpc' | 'http/protobuf',
  report: (problem: string) => void,
): Record<string, string> {
  const rules = protocol === 'grpc' ? GRPC_RULES : HTTP_RULES;
  const checked: Record<string, string> = {};
  if (!headers) return checked;
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.trim().toLowerCase();
    const reserved =
      RESERVED_NAMES.has(name) || (rules.reservedPrefix && name.startsWith(rules.reservedPrefix));
    if (!rules.validName.test(name) || reserved) {
      report(`header '${safeName(rawName)}' is not usable as ${rules.kind}; dropped`);
      continue;
    }
    if (typeof value !== 'string' || !rules.validValue.test(value)) {
      report(`the value of header '${name}' is not printable ASCII; header dropped`);
      continue;
    }
    checked[name] = value;
  }
  return checked;
}

/** A header name fit for a log line (names are not secret, but keep control characters out). */
function safeName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

/**
 * The URL an OTLP/HTTP exporter POSTs to, as configured (its path included: the configuration has
 * already appended `v1/traces` where the specification says to).
 *
 * @throws Error when the URL cannot be parsed or its scheme is neither http nor https.
 */
export function otlpHttpUrl(url: string): URL {
  return parseEndpoint(url, 'OTLP/HTTP');
}
