/**
 * A minimal protobuf (proto3) binary writer: just the wire types the OTLP trace request uses.
 * See https://protobuf.dev/programming-guides/encoding/ for the encoding rules cited below.
 */

/** Wire type 0: int32, int64, uint32, bool, enum. */
export const WIRE_VARINT = 0;
/** Wire type 1: fixed64, double. */
export const WIRE_I64 = 1;
/** Wire type 2: string, bytes, embedded messages, packed repeated fields. */
export const WIRE_LEN = 2;
/** Wire type 5: fixed32, float. */
export const WIRE_I32 = 5;

const TWO_POW_32 = 4294967296;
/** Strings up to this many UTF-16 units try a JS ASCII loop before calling into native UTF-8 encoding. */
const ASCII_FAST_PATH_MAX = 64;

/**
 * Appends protobuf-encoded fields to a growable buffer.
 *
 * Embedded messages are written in place: {@link begin} reserves one byte for the length prefix
 * (enough for messages under 128 bytes, the common case for attributes), and {@link end} moves the
 * body forward when the length needs more bytes. Lengths are thus always minimal varints, the
 * canonical encoding other serializers produce.
 */
export class ProtobufWriter {
  private buf: Buffer;
  /** Offset of the next byte to write. */
  pos: number;

  /**
   * @param initialCapacity bytes to allocate up front (the buffer doubles when needed).
   * @param headroom bytes left free at the start, for a caller's framing (the gRPC message prefix).
   */
  constructor(initialCapacity = 1024, headroom = 0) {
    this.buf = Buffer.allocUnsafe(Math.max(initialCapacity, headroom + 64));
    this.pos = headroom;
  }

  /** The bytes written so far, headroom included (a view, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A field key: `(field_number << 3) | wire_type`, as a varint. */
  tag(fieldNumber: number, wireType: number): void {
    this.uint32(((fieldNumber << 3) | wireType) >>> 0);
  }

  /** An unsigned varint of at most 32 bits (uint32, enums, counts, lengths, bool). */
  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let v = value >>> 0;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /**
   * An int64 varint from an integer-valued number in [-2^63, 2^63). Negative values take ten bytes:
   * int64 (unlike sint64) is encoded as the two's complement bit pattern, not zig-zag.
   */
  int64(value: number): void {
    if (value >= 0 && value < TWO_POW_32) {
      this.uint32(value);
      return;
    }
    const magnitude = Math.abs(value);
    // `>>> 0` is an exact modulo 2^32 for any integer-valued double, and dividing by 2^32 is exact.
    let lo = magnitude >>> 0;
    let hi = Math.floor(magnitude / TWO_POW_32) >>> 0;
    if (value < 0) {
      // Two's complement over 64 bits: invert, then add one with a carry into the high word.
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    this.ensure(10);
    const buf = this.buf;
    while (hi !== 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  /** A little-endian fixed32. */
  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  /** A little-endian fixed64 given as two 32-bit halves. */
  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** A little-endian IEEE 754 double. */
  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (lone surrogates become U+FFFD, as with TextEncoder). */
  string(value: string): void {
    const length = value.length;
    if (length <= ASCII_FAST_PATH_MAX) {
      // Short ASCII strings (attribute keys, names) are most of an OTLP request: a JS loop beats
      // two native calls (byteLength + write) for them. The 1-byte length prefix holds up to 127.
      this.ensure(length + 1);
      const buf = this.buf;
      const start = this.pos;
      buf[start] = length;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        buf[start + 1 + i] = code;
      }
      if (i === length) {
        this.pos = start + 1 + length;
        return;
      }
    }
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.uint32(byteLength);
    this.ensure(byteLength);
    this.pos += this.buf.write(value, this.pos, byteLength, 'utf8');
  }

  /** Length-delimited raw bytes. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Length-delimited bytes given as a hex string (trace and span ids), decoded in place. */
  hexBytes(hex: string): void {
    const length = hex.length >>> 1;
    this.uint32(length);
    this.ensure(length);
    const buf = this.buf;
    for (let i = 0; i < length; i++) {
      buf[this.pos++] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
    }
  }

  /** Opens an embedded message (after its tag); pass the returned mark to {@link end}. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Closes the embedded message opened at `mark`, writing its length prefix. */
  end(mark: number): void {
    const length = this.pos - mark - 1;
    if (length < 0x80) {
      this.buf[mark] = length;
      return;
    }
    const prefix = varintSize(length);
    this.ensure(prefix - 1);
    const buf = this.buf;
    buf.copyWithin(mark + prefix, mark + 1, this.pos);
    this.pos += prefix - 1;
    let v = length;
    let at = mark;
    while (v > 0x7f) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** Bytes taken by the varint encoding of a uint32. */
export function varintSize(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Value of one hex digit (either case); ids come from the SDK, already validated as hex. */
function hexDigit(code: number): number {
  if (code <= 0x39) return code - 0x30; // '0'-'9'
  return (code | 0x20) - 0x57; // 'a'-'f', with 'A'-'F' folded to lower case
}
