/**
 * Reads the one thing an exporter needs from an `ExportTraceServiceResponse`: its
 * `partial_success` (field 1), an `ExportTracePartialSuccess` with rejected_spans = 1 (int64) and
 * error_message = 2 (string). Everything else is skipped by wire type, so fields added to the proto
 * later do not break it.
 */

import { GRPC_MESSAGE_PREFIX_BYTES } from './grpc-http2-client.js';

/** What a collector reported as partially accepted. */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * Decodes the partial success from a gRPC response body (length-prefixed messages, of which a unary
 * call has one). Returns undefined when there is none, when it is empty (which the OTLP spec says
 * means full success), or when the body cannot be read (compressed or malformed: the export itself
 * still succeeded).
 */
export function readPartialSuccess(body: Uint8Array): PartialSuccess | undefined {
  // gRPC message prefix: 1 byte compressed flag, 4 bytes big-endian length.
  if (body.length < GRPC_MESSAGE_PREFIX_BYTES || body[0] !== 0) return undefined;
  const length = ((body[1] << 24) | (body[2] << 16) | (body[3] << 8) | body[4]) >>> 0;
  return readPartialSuccessMessage(
    body.subarray(GRPC_MESSAGE_PREFIX_BYTES, GRPC_MESSAGE_PREFIX_BYTES + length),
  );
}

/**
 * Decodes the partial success from a bare `ExportTraceServiceResponse`, the body of an OTLP/HTTP
 * response; undefined as for {@link readPartialSuccess}.
 */
export function readPartialSuccessMessage(message: Uint8Array): PartialSuccess | undefined {
  try {
    const reader = new Reader(message);
    let partial: PartialSuccess | undefined;
    while (reader.more()) {
      const [field, wireType] = reader.key();
      if (field === 1 && wireType === 2) partial = readPartialSuccessBody(reader.lengthDelimited());
      else reader.skip(wireType);
    }
    if (!partial || (partial.rejectedSpans === 0 && partial.errorMessage === '')) return undefined;
    return partial;
  } catch {
    return undefined;
  }
}

/**
 * The `message` (field 2) of a `google.rpc.Status`, the body an OTLP/HTTP collector sends with an
 * error status; undefined when there is none or the body is not one.
 */
export function readStatusMessage(body: Uint8Array): string | undefined {
  try {
    const reader = new Reader(body);
    let message: string | undefined;
    while (reader.more()) {
      const [field, wireType] = reader.key();
      if (field === 2 && wireType === 2)
        message = new TextDecoder('utf-8', { fatal: true }).decode(reader.lengthDelimited());
      else reader.skip(wireType);
    }
    return message || undefined;
  } catch {
    return undefined;
  }
}

function readPartialSuccessBody(bytes: Uint8Array): PartialSuccess {
  const reader = new Reader(bytes);
  const result: PartialSuccess = { rejectedSpans: 0, errorMessage: '' };
  while (reader.more()) {
    const [field, wireType] = reader.key();
    if (field === 1 && wireType === 0) result.rejectedSpans = reader.varint();
    else if (field === 2 && wireType === 2)
      result.errorMessage = Buffer.from(reader.lengthDelimited()).toString('utf8');
    else reader.skip(wireType);
  }
  return result;
}

class Reader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  more(): boolean {
    return this.pos < this.bytes.length;
  }

  key(): [field: number, wireType: number] {
    const key = this.varint();
    return [Math.floor(key / 8), key % 8];
  }

  /** A varint as a JS number (exact up to 2^53, plenty for counts). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  lengthDelimited(): Uint8Array {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.bytes.length) throw new Error('truncated field');
    const value = this.bytes.subarray(this.pos, end);
    this.pos = end;
    return value;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.lengthDelimited();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        // Groups (3, 4) are not used by OTLP.
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  private advance(count: number): void {
    if (this.pos + count > this.bytes.length) throw new Error('truncated field');
    this.pos += count;
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('truncated varint');
    return this.bytes[this.pos++];
  }
}
