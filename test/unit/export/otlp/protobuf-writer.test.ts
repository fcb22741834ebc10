import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeHrTimeFixed64 } from '../../../../src/export/otlp/encode-common.js';
import { ProtobufWriter, varintSize, WIRE_LEN } from '../../../../src/export/otlp/protobuf-writer.js';

/** Reference varint of a 64-bit two's complement value, computed with BigInt. */
function bigVarint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function written(fill: (writer: ProtobufWriter) => void, initialCapacity = 1): Buffer {
  const writer = new ProtobufWriter(initialCapacity);
  fill(writer);
  return Buffer.from(writer.finish());
}

describe('ProtobufWriter', () => {
  it('writes uint32 varints at every size boundary', () => {
    for (const value of [
      0,
      1,
      127,
      128,
      16_383,
      16_384,
      2_097_151,
      2_097_152,
      268_435_455,
      268_435_456,
      2 ** 32 - 1,
    ]) {
      assert.deepEqual(
        written((w) => w.uint32(value)),
        bigVarint(BigInt(value)),
        `uint32 ${value}`,
      );
      assert.equal(varintSize(value), bigVarint(BigInt(value)).length);
    }
  });

  it('writes int64 varints as two’s complement, exactly, across the whole range', () => {
    const values = [
      0,
      1,
      -1,
      2 ** 31,
      -(2 ** 31),
      2 ** 32 - 1,
      2 ** 32,
      -(2 ** 32),
      -(2 ** 32) - 1,
      2 ** 53 - 1,
      -(2 ** 53) + 1,
      2 ** 53 + 2,
      2 ** 62,
      -(2 ** 62) - 2 ** 40,
      2 ** 63 - 1024, // largest double below 2^63
      -(2 ** 63),
    ];
    // Plus pseudo-random integers of every magnitude, both signs.
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const magnitude = Math.floor((seed / 2 ** 31) * 2 ** ((i % 63) + 1));
      values.push(i % 2 ? -magnitude : magnitude);
    }
    for (const value of values) {
      assert.deepEqual(
        written((w) => w.int64(value)),
        bigVarint(BigInt(value)),
        `int64 ${value}`,
      );
    }
  });

  it('writes HrTime as fixed64 nanoseconds, exactly, beyond 2^53 ns', () => {
    const times: [number, number][] = [
      [0, 0],
      [0, 999_999_999],
      [1, 0],
      [65_535, 999_999_999],
      [65_536, 0],
      [1_700_000_000, 123_456_789],
      [4_294_967_295, 999_999_999],
      [18_446_744_073, 709_551_615], // the largest value that fits in uint64
    ];
    let seed = 11;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      times.push([seed % 10_000_000_000, (seed * 7) % 1_000_000_000]);
    }
    for (const [seconds, nanos] of times) {
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64LE(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
      assert.deepEqual(
        written((w) => writeHrTimeFixed64(w, [seconds, nanos])),
        expected,
        `[${seconds}, ${nanos}]`,
      );
    }
  });

  it('writes strings as UTF-8, short ASCII and not', () => {
    for (const text of [
      '',
      'a',
      'x'.repeat(64),
      'x'.repeat(65),
      'x'.repeat(128),
      'é',
      `${'x'.repeat(63)}é`,
      '日本語 🎉',
      'lone \ud800 surrogate',
      'x'.repeat(70_000),
    ]) {
      const utf8 = Buffer.from(text, 'utf8');
      assert.deepEqual(
        written((w) => w.string(text)),
        Buffer.concat([bigVarint(BigInt(utf8.length)), utf8]),
        `string of length ${text.length}`,
      );
    }
  });

  it('writes fixed32, fixed64, doubles, bytes and hex ids little-endian / raw', () => {
    assert.deepEqual(
      written((w) => w.fixed32(0x01020304)),
      Buffer.from([4, 3, 2, 1]),
    );
    assert.deepEqual(
      written((w) => w.fixed64(0x05060708, 0x01020304)),
      Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]),
    );
    const double = Buffer.alloc(8);
    double.writeDoubleLE(-0.25);
    assert.deepEqual(
      written((w) => w.double(-0.25)),
      double,
    );
    assert.deepEqual(
      written((w) => w.bytes(new Uint8Array([9, 8]))),
      Buffer.from([2, 9, 8]),
    );
    assert.deepEqual(
      written((w) => w.hexBytes('00ff10Ab')),
      Buffer.from([4, 0x00, 0xff, 0x10, 0xab]),
    );
  });

  it('writes minimal length prefixes for nested messages of any size', () => {
    for (const size of [0, 1, 127, 128, 16_383, 16_384, 2_097_152]) {
      const inner = 'z'.repeat(size);
      const bytes = written((w) => {
        w.tag(1, WIRE_LEN);
        const outer = w.begin();
        w.tag(2, WIRE_LEN);
        const middle = w.begin();
        w.tag(3, WIRE_LEN);
        w.bytes(Buffer.from(inner));
        w.end(middle);
        w.end(outer);
      });
      const level3 = Buffer.concat([Buffer.from([0x1a]), bigVarint(BigInt(size)), Buffer.from(inner)]);
      const level2 = Buffer.concat([Buffer.from([0x12]), bigVarint(BigInt(level3.length)), level3]);
      const level1 = Buffer.concat([Buffer.from([0x0a]), bigVarint(BigInt(level2.length)), level2]);
      assert.ok(bytes.equals(level1), `nested message of ${size} bytes`);
    }
  });

  it('keeps headroom free and counts it in the result', () => {
    const writer = new ProtobufWriter(1, 5);
    writer.uint32(300);
    const bytes = writer.finish();
    assert.equal(bytes.length, 7);
    assert.deepEqual(bytes.subarray(5), Buffer.from([0xac, 0x02]));
  });
});
