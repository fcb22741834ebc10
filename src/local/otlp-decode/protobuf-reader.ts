/**
 * A minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/): just
 * what decoding an OTLP trace request needs. Written here rather than depending on protobufjs so
 * the CLI needs no generated code and no dev package.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8');

/** Reads fields one by one from a message's bytes; throws on malformed input. */
export class ProtobufReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** True while fields remain. */
  get more(): boolean {
    return this.offset < this.bytes.length;
  }

  /** The next field's tag: its number and wire type. */
  tag(): { field: number; wire: number } {
    const tag = this.varint();
    return { field: Number(tag >> 3n), wire: Number(tag & 7n) };
  }

  /** An unsigned varint (uint32, uint64, enum, bool) as a bigint. */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error('protobuf: varint too long');
  }

  /** An int64 varint, two's complement. */
  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  fixed64(): bigint {
    const view = this.view(8);
    return view.getBigUint64(0, true);
  }

  double(): number {
    return this.view(8).getFloat64(0, true);
  }

  fixed32(): number {
    return this.view(4).getUint32(0, true);
  }

  /** A length-delimited field's bytes (a sub-message, a string or bytes). */
  bytesField(): Uint8Array {
    const length = Number(this.varint());
    if (this.offset + length > this.bytes.length) throw new Error('protobuf: length past the end');
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  string(): string {
    return utf8.decode(this.bytesField());
  }

  /** Skips a field this decoder does not read. */
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.view(8);
    else if (wire === WIRE_LEN) this.bytesField();
    else if (wire === WIRE_I32) this.view(4);
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }

  private byte(): number {
    if (this.offset >= this.bytes.length) throw new Error('protobuf: unexpected end of message');
    return this.bytes[this.offset++] as number;
  }

  private view(length: number): DataView {
    if (this.offset + length > this.bytes.length) throw new Error('protobuf: unexpected end of message');
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, length);
    this.offset += length;
    return view;
  }
}
