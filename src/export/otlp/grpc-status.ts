/**
 * gRPC status codes and how a gRPC-over-HTTP/2 response maps to them
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md,
 * https://github.com/grpc/grpc/blob/master/doc/statuscodes.md).
 */

/** Status code names, indexed by code. */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The gRPC status codes this client produces itself. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A failed gRPC call: the status the server sent, or the one this client derived. */
export class GrpcCallError extends Error {
  /** gRPC status code (`grpc-status`), e.g. 14 for UNAVAILABLE. */
  readonly code: number;
  /** HTTP `:status` of the response, when one arrived. */
  readonly httpStatus: number | undefined;

  constructor(message: string, code: number, options?: { httpStatus?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GrpcCallError';
    this.code = code;
    this.httpStatus = options?.httpStatus;
  }
}

/** `14 UNAVAILABLE`, for messages. */
export function describeStatus(code: number): string {
  return `${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}`;
}

/**
 * The status a client must assume when the HTTP status is not 200 (and no grpc-status says
 * otherwise): "HTTP to gRPC Status Code Mapping" in the gRPC docs.
 */
export function statusFromHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** `grpc-message` is percent-encoded UTF-8 (PROTOCOL-HTTP2.md); a malformed one is shown as sent. */
export function decodeGrpcMessage(raw: string | undefined): string {
  if (!raw) return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * A `grpc-timeout` header value: at most 8 digits and a unit (PROTOCOL-HTTP2.md, "Timeout").
 * Milliseconds up to 99,999,999 (~27 h), whole seconds beyond.
 */
export function formatGrpcTimeout(millis: number): string {
  const ms = Math.max(1, Math.ceil(millis));
  if (ms <= 99_999_999) return `${ms}m`;
  return `${Math.min(99_999_999, Math.ceil(ms / 1000))}S`;
}

/**
 * The outcome of a call that got response headers. Success is HTTP 200 with grpc-status 0, the
 * status being in the trailers, or in the headers for a "Trailers-Only" response. `field` reads a
 * response field: from the trailers first, then the headers.
 */
export function callStatus(
  httpStatus: number,
  field: (name: 'grpc-status' | 'grpc-message') => string | undefined,
  streamError: Error | undefined,
): GrpcCallError | undefined {
  const grpcStatus = field('grpc-status');
  const grpcMessage = decodeGrpcMessage(field('grpc-message'));
  if (httpStatus !== 200) {
    const code = grpcStatus === undefined ? statusFromHttp(httpStatus) : Number(grpcStatus);
    return new GrpcCallError(
      `OTLP export failed: HTTP status ${httpStatus}, gRPC status ${describeStatus(code)}${grpcMessage ? `: ${grpcMessage}` : ''}`,
      code,
      { httpStatus },
    );
  }
  if (grpcStatus === undefined) {
    return new GrpcCallError(
      `OTLP export failed: response ended without grpc-status${streamError ? ` (${streamError.message})` : ''}`,
      GrpcStatus.INTERNAL,
      { httpStatus, cause: streamError },
    );
  }
  const code = Number(grpcStatus);
  if (code === GrpcStatus.OK) return undefined;
  return new GrpcCallError(
    `OTLP export failed: gRPC status ${describeStatus(code)}${grpcMessage ? `: ${grpcMessage}` : ''}`,
    code,
    { httpStatus },
  );
}

/** Any failure as a {@link GrpcCallError} (UNAVAILABLE unless it already is one). */
export function asCallError(error: unknown): GrpcCallError {
  if (error instanceof GrpcCallError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GrpcCallError(`OTLP export failed: ${message}`, GrpcStatus.UNAVAILABLE, { cause: error });
}
