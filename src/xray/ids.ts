const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;
const ALL_ZEROS = /^0+$/;

/**
 * Converts a 32-hex OpenTelemetry trace ID to X-Ray's `1-<8 hex epoch>-<24 hex>` form, or
 * returns `undefined` for an ID X-Ray could never accept (wrong length, not hex, all zeros).
 *
 * X-Ray reads the first 8 hex digits as the trace's start time in epoch seconds and rejects
 * traces older than 30 days: that holds only for IDs made by the X-Ray ID generator (or taken
 * from an X-Ray trace header). The collector drops spans whose epoch is outside
 * [now - 28 days, now + 5 min]; this function stays pure and leaves that check to X-Ray.
 */
export function toXRayTraceId(traceId: string): string | undefined {
  if (!TRACE_ID.test(traceId) || ALL_ZEROS.test(traceId)) return undefined;
  const id = traceId.toLowerCase();
  return `1-${id.slice(0, 8)}-${id.slice(8)}`;
}

/** Whether `spanId` is a 16-hex, non-zero span ID, the only form X-Ray's `id`/`parent_id` take. */
export function isValidSpanId(spanId: string | undefined): spanId is string {
  return spanId !== undefined && SPAN_ID.test(spanId) && !ALL_ZEROS.test(spanId);
}

/**
 * A fresh 16-hex ID for an exception in `cause.exceptions` (the schema requires one; the
 * collector draws it at random too, and X-Ray only uses it to refer to the exception).
 */
export function newExceptionId(): string {
  return randomId64();
}

const ZERO_ID_64 = '0000000000000000';

/**
 * 64 random bits as 16 lowercase hex digits, never all zero. From `Math.random`, as the X-Ray ID
 * generator package makes them: span and exception IDs must be unique, not secret, and
 * `node:crypto` is a module the runtime does not load otherwise (~1.3 ms of a cold start).
 */
export function randomId64(): string {
  const id = hex32() + hex32();
  return id === ZERO_ID_64 ? '0000000000000001' : id;
}

/** 32 random bits as 8 lowercase hex digits. */
function hex32(): string {
  return ((Math.random() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
}
