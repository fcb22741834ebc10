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
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new Error('OTLP/gRPC exporter: the endpoint URL is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(
      `OTLP/gRPC exporter: unsupported endpoint scheme '${parsed.protocol}' (use http: or https:)`,
    );
  }
  return parsed.origin;
}

/** Header names a call sets itself, or that HTTP/2 forbids (RFC 9113 §8.2.2). */
const RESERVED_NAMES = new Set([
  'content-type',
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
/** gRPC Header-Name: lower-case letters, digits, `_`, `-`, `.` (PROTOCOL-HTTP2.md "Custom-Metadata"). */
const VALID_NAME = /^[0-9a-z_.-]+$/;
/** gRPC ASCII-Value: printable ASCII, space included. (`-bin` values are base64, a subset.) */
const VALID_VALUE = /^[\x20-\x7e]*$/;

/**
 * Custom metadata from user headers: names lower-cased (HTTP/2 header names are lower case, as
 * gRPC metadata keys are), invalid or reserved entries dropped with a warning naming only the key,
 * as values are often credentials.
 */
export function toGrpcMetadata(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (!headers) return metadata;
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.trim().toLowerCase();
    if (!VALID_NAME.test(name) || RESERVED_NAMES.has(name) || name.startsWith('grpc-')) {
      diag.warn(`OTLP/gRPC exporter: header '${safeName(rawName)}' is not usable as gRPC metadata; dropped`);
      continue;
    }
    if (typeof value !== 'string' || !VALID_VALUE.test(value)) {
      diag.warn(`OTLP/gRPC exporter: the value of header '${name}' is not printable ASCII; header dropped`);
      continue;
    }
    metadata[name] = value;
  }
  return metadata;
}

/** A header name fit for a log line (names are not secret, but keep control characters out). */
function safeName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}
