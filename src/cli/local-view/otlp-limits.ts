import { gunzipSync } from 'node:zlib';

/**
 * The largest OTLP request either receiver takes, on the wire and once decompressed: the
 * collector's default `max_request_body_size` (20 MiB). A function's export is far below it; the
 * cap only keeps a runaway or hostile sender from filling the CLI's memory.
 */
export const MAX_OTLP_REQUEST_BYTES = 20 * 1024 * 1024;

/** A request (or what it inflates to) above {@link MAX_OTLP_REQUEST_BYTES}. */
export class RequestTooLargeError extends Error {
  constructor(what: string) {
    super(`${what} is larger than ${MAX_OTLP_REQUEST_BYTES} bytes`);
  }
}

/**
 * Gunzips `data`, refusing output above the cap: a few kilobytes of gzip can inflate to gigabytes,
 * so the limit is applied while inflating, not after.
 */
export function gunzipCapped(data: Uint8Array): Buffer<ArrayBuffer> {
  try {
    return gunzipSync(data, { maxOutputLength: MAX_OTLP_REQUEST_BYTES });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new RequestTooLargeError('the decompressed request');
    throw error;
  }
}
