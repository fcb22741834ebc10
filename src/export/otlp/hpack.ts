/**
 * HPACK, the header compression of HTTP/2 (RFC 7541, https://www.rfc-editor.org/rfc/rfc7541): a
 * decoder for the header blocks a collector sends, and a stateless encoder for our requests.
 * Section and appendix numbers below are the RFC's.
 *
 * Header strings are latin1 on both sides: each byte is one UTF-16 unit below 256. That is lossless
 * for any bytes a peer sends (no decoding error to handle, `Buffer.from(value, 'latin1')` gives the
 * bytes back), it is what `node:http2` does, and it makes a string's length its byte count, which the
 * dynamic table's size accounting needs (§4.1). gRPC sends nothing but ASCII in the headers we read
 * (`grpc-message` is percent-encoded UTF-8).
 */

/** Thrown on a malformed header block (a COMPRESSION_ERROR for the connection, RFC 9113 §4.3). */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}

/** SETTINGS_HEADER_TABLE_SIZE when not sent (RFC 9113 §6.5.2), the size we advertise. */
const DEFAULT_MAX_TABLE_SIZE = 4096;
/** §4.1: an entry's size is its name and value lengths plus this overhead. */
const ENTRY_OVERHEAD = 32;
/** Larger integers are refused: no index, length or table size we can accept comes near it. */
const MAX_INTEGER = 0x7fffffff;
/** Continuation bytes of an integer carry 7 bits each: past this shift, even zeros are refused. */
const MAX_INTEGER_SHIFT = 28;
/** Bytes the encoder reserves per integer: the prefix byte and five continuation bytes (§5.1). */
const MAX_INTEGER_BYTES = 6;

/** Appendix A: entries 1 to 61 of the index address space. */
const STATIC_TABLE: readonly (readonly [name: string, value: string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

const EMPTY = Buffer.alloc(0);

/** Index of the first dynamic table entry (§2.3.3): it follows the static table. */
const FIRST_DYNAMIC_INDEX = STATIC_TABLE.length + 1;

/**
 * Appendix B, the Huffman code of string literals: the code length in bits of each symbol, bytes
 * 0x00 to 0xff then EOS (256), sixteen to a row. The code is canonical (shorter codes first, codes of
 * one length in symbol order, each the previous one plus one), so these lengths determine the codes;
 * the tests check them against nghttp2's encoder.
 */
// biome-ignore format: a table, sixteen symbols to a row
const HUFFMAN_CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //         0x20 ' ' to '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //              0x30 '0' to '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                0x40 '@' to 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //             0x50 'P' to '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                0x60 '`' to 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            0x70 'p' to DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
  30, //                                                             EOS
];

/** The end-of-string symbol: its code (30 one bits) pads the last byte and must never be decoded. */
const EOS = 256;
/** §5.2: padding is the most significant bits of EOS, so at most seven one bits. */
const MAX_PADDING_BITS = 7;

/**
 * The Huffman decoder is an automaton reading four bits at a time. Its states are the internal nodes
 * of the code tree: where in a code word the bits read so far leave us (0 is the root, between
 * symbols). `transitions[state * 16 + nibble]` packs the next state (bits 0-7) and the symbol
 * completed on the way plus one (bits 8 and up, 0 when none), or is {@link DECODES_EOS}. A nibble
 * completes at most one symbol: codes are at least five bits long.
 */
const DECODES_EOS = -1;

/**
 * The code tree: `children[node * 2 + bit]` is an internal node (> 0), symbol `s` as `-1 - s`, or 0
 * while unset (the root, node 0, is nobody's child). 257 symbols make 256 internal nodes.
 */
interface CodeTree {
  children: Int16Array;
  nodes: number;
}

/**
 * The decoder's tables, built on the first Huffman-coded string: the layer's bundle loads this module
 * whatever the exporter, and a cold start that never speaks gRPC should not build them.
 */
let huffman: { transitions: Int32Array; canEnd: Uint8Array } | undefined;

function huffmanTables(): { transitions: Int32Array; canEnd: Uint8Array } {
  if (huffman === undefined) {
    const tree = buildCodeTree();
    huffman = { transitions: buildTransitions(tree), canEnd: buildEndStates(tree) };
  }
  return huffman;
}

/** The canonical code: symbols by length then value, each code the previous one plus one. */
function buildCodeTree(): CodeTree {
  const symbols = HUFFMAN_CODE_LENGTHS.map((_, symbol) => symbol);
  symbols.sort((a, b) => lengthOf(a) - lengthOf(b) || a - b);
  const children = new Int16Array(2 * EOS);
  let nodes = 1;
  let code = 0;
  let previousLength = lengthOf(symbols[0] as number);
  for (const symbol of symbols) {
    const length = lengthOf(symbol);
    code <<= length - previousLength; // lengths are at most 30: the code fits in 31 bits
    previousLength = length;
    let node = 0;
    for (let bit = length - 1; bit > 0; bit--) {
      const slot = node * 2 + ((code >>> bit) & 1);
      if (children[slot] === 0) children[slot] = nodes++;
      node = children[slot] as number;
    }
    children[node * 2 + (code & 1)] = -1 - symbol;
    code++;
  }
  return { children, nodes };
}

function buildTransitions({ children, nodes }: CodeTree): Int32Array {
  const transitions = new Int32Array(nodes * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let completed = 0; // symbol + 1
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[node * 2 + ((nibble >>> bit) & 1)] as number;
        if (child > 0) {
          node = child;
          continue;
        }
        if (-1 - child === EOS) {
          completed = DECODES_EOS;
          break;
        }
        completed = -child;
        node = 0;
      }
      transitions[state * 16 + nibble] = completed === DECODES_EOS ? DECODES_EOS : node | (completed << 8);
    }
  }
  return transitions;
}

/** The states a string may end in: between symbols, or up to seven one bits into a code (§5.2). */
function buildEndStates({ children, nodes }: CodeTree): Uint8Array {
  const canEnd = new Uint8Array(nodes);
  let node = 0;
  for (let ones = 0; ones <= MAX_PADDING_BITS; ones++) {
    canEnd[node] = 1;
    node = children[node * 2 + 1] as number;
  }
  return canEnd;
}

function lengthOf(symbol: number): number {
  return HUFFMAN_CODE_LENGTHS[symbol] as number;
}

/** Room for decoded Huffman strings, grown as needed: decoding allocates only the result string. */
let huffmanOutput = Buffer.alloc(0);

/** §5.2: a Huffman-coded string literal, `bytes[start, end)`. */
function decodeHuffman(bytes: Buffer, start: number, end: number): string {
  // The shortest code is five bits: at most 8/5 symbols per byte.
  const maxSymbols = Math.floor(((end - start) * 8) / 5);
  if (huffmanOutput.length < maxSymbols) huffmanOutput = Buffer.allocUnsafe(maxSymbols * 2);
  const output = huffmanOutput;
  const { transitions, canEnd } = huffmanTables();
  let count = 0;
  let state = 0;
  for (let at = start; at < end; at++) {
    const byte = bytes[at] as number;
    let step = transitions[(state << 4) | (byte >>> 4)] as number;
    if (step === DECODES_EOS) throw new HpackError('EOS in a Huffman-coded string');
    if (step > 0xff) output[count++] = (step >>> 8) - 1;
    step = transitions[((step & 0xff) << 4) | (byte & 0xf)] as number;
    if (step === DECODES_EOS) throw new HpackError('EOS in a Huffman-coded string');
    if (step > 0xff) output[count++] = (step >>> 8) - 1;
    state = step & 0xff;
  }
  if (canEnd[state] !== 1) {
    throw new HpackError('Huffman-coded string padded with more than 7 bits or not with ones');
  }
  return output.toString('latin1', 0, count);
}

/**
 * Decodes the header blocks of one connection, in the order they arrive: the dynamic table (§2.3.2)
 * carries over from block to block. After an {@link HpackError} the decoder's state is undefined, as
 * is the connection's (it must be closed).
 */
export class HpackDecoder {
  /** The dynamic table, oldest entry first: the newest, index 62, is the last. */
  private readonly entries: [name: string, value: string][] = [];
  /** Sum of the entries' sizes (§4.1). */
  private tableSize = 0;
  /** The table's current maximum size, which the peer may lower and raise (§6.3). */
  private maxTableSize: number;
  private bytes: Buffer = EMPTY;
  /** Offset in `bytes` of the next byte to read. */
  private at = 0;

  /** The SETTINGS_HEADER_TABLE_SIZE we advertise: the most the peer's encoder may use. */
  private readonly settingsMaxTableSize: number;

  /** @param maxTableSize the SETTINGS_HEADER_TABLE_SIZE we advertise (4096 when we send none). */
  constructor(maxTableSize = DEFAULT_MAX_TABLE_SIZE) {
    this.settingsMaxTableSize = maxTableSize;
    this.maxTableSize = maxTableSize;
  }

  /**
   * Decodes one complete header block (the HEADERS and CONTINUATION fragments joined, padding and
   * priority removed).
   *
   * @returns the fields in order, names as sent (lower case in HTTP/2), strings as latin1.
   * @throws HpackError when the block is malformed.
   */
  decode(block: Uint8Array): [name: string, value: string][] {
    const bytes = Buffer.isBuffer(block)
      ? block
      : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    this.bytes = bytes;
    this.at = 0;
    const fields: [string, string][] = [];
    try {
      while (this.at < bytes.length) {
        const first = bytes[this.at] as number;
        if (first >= 0x80) {
          // §6.1 indexed header field: 1xxxxxxx.
          const [name, value] = this.entry(this.readInteger(7));
          fields.push([name, value]);
        } else if (first >= 0x40) {
          // §6.2.1 literal with incremental indexing: 01xxxxxx.
          const field = this.readLiteral(6);
          this.insert(field[0], field[1]);
          fields.push(field);
        } else if (first >= 0x20) {
          // §6.3 dynamic table size update: 001xxxxx. §4.2: only at the start of a block.
          if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
          this.resize(this.readInteger(5));
        } else {
          // §6.2.2 without indexing (0000xxxx) and §6.2.3 never indexed (0001xxxx): the difference
          // only matters to intermediaries that re-encode.
          fields.push(this.readLiteral(4));
        }
      }
    } finally {
      this.bytes = EMPTY; // do not keep the block alive
    }
    return fields;
  }

  /** §2.3.3: an entry of the static table, then of the dynamic table, newest first. */
  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError('index 0');
    if (index < FIRST_DYNAMIC_INDEX) return STATIC_TABLE[index - 1] as readonly [string, string];
    const entry = this.entries[this.entries.length - 1 - (index - FIRST_DYNAMIC_INDEX)];
    if (entry === undefined) throw new HpackError(`index ${index} past the end of the tables`);
    return entry;
  }

  /** §6.2: a literal field whose name is indexed (index in a `prefixBits` prefix) or a string. */
  private readLiteral(prefixBits: number): [string, string] {
    const nameIndex = this.readInteger(prefixBits);
    const name = nameIndex === 0 ? this.readString() : this.entry(nameIndex)[0];
    return [name, this.readString()];
  }

  /** §5.1: an integer in the low `prefixBits` bits of the next byte, continued when they are all set. */
  private readInteger(prefixBits: number): number {
    const bytes = this.bytes;
    if (this.at >= bytes.length) throw new HpackError('header block truncated');
    const prefixMax = (1 << prefixBits) - 1;
    let value = (bytes[this.at++] as number) & prefixMax;
    if (value < prefixMax) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.at >= bytes.length) throw new HpackError('integer truncated');
      if (shift > MAX_INTEGER_SHIFT) throw new HpackError('integer too long');
      const byte = bytes[this.at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('integer too large');
      if (byte < 0x80) return value;
    }
  }

  /** §5.2: a string literal, its length prefixed by the Huffman flag, raw or Huffman-coded. */
  private readString(): string {
    const bytes = this.bytes;
    if (this.at >= bytes.length) throw new HpackError('header block truncated');
    const huffman = (bytes[this.at] as number) >= 0x80;
    const length = this.readInteger(7);
    const start = this.at;
    if (length > bytes.length - start) throw new HpackError('string literal past the end of the block');
    this.at += length;
    return huffman ? decodeHuffman(bytes, start, this.at) : bytes.toString('latin1', start, this.at);
  }

  /** §4.4: adds an entry, evicting the oldest to make room; one larger than the table empties it. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evictTo(this.maxTableSize - size);
    if (size > this.maxTableSize) return;
    this.entries.push([name, value]);
    this.tableSize += size;
  }

  /** §4.3, §6.3: a new maximum size, at most the one we advertise. */
  private resize(maxTableSize: number): void {
    if (maxTableSize > this.settingsMaxTableSize) {
      throw new HpackError(
        `dynamic table size ${maxTableSize} above the maximum ${this.settingsMaxTableSize}`,
      );
    }
    this.maxTableSize = maxTableSize;
    this.evictTo(maxTableSize);
  }

  /** Evicts the oldest entries until the table's size is at most `limit` (§4.3, §4.4). */
  private evictTo(limit: number): void {
    let evicted = 0;
    while (this.tableSize > limit && evicted < this.entries.length) {
      const [name, value] = this.entries[evicted++] as [string, string];
      this.tableSize -= name.length + value.length + ENTRY_OVERHEAD;
    }
    if (evicted > 0) this.entries.splice(0, evicted);
  }
}

type StaticIndex = Map<string, { nameIndex: number; byValue: Map<string, number> }>;

/**
 * For the encoder: each static-table name's first index, and the index of each of its full
 * entries. Made on the first encoding, not at load: the bundle loads this module whatever the
 * exporter.
 */
let staticIndex: StaticIndex | undefined;

function staticIndexOf(): StaticIndex {
  if (staticIndex !== undefined) return staticIndex;
  const index: StaticIndex = new Map();
  STATIC_TABLE.forEach(([name, value], position) => {
    let forName = index.get(name);
    if (forName === undefined) {
      forName = { nameIndex: position + 1, byValue: new Map() };
      index.set(name, forName);
    }
    forName.byValue.set(value, position + 1);
  });
  staticIndex = index;
  return index;
}

/**
 * Encodes request header fields as one header block, statelessly: a field that is a static-table
 * entry as its index (§6.1), any other as a literal without indexing (§6.2.2), its name as a
 * static-table index when there is one, strings raw (no Huffman coding). The peer's dynamic table is
 * never touched, so its decoder state never depends on ours.
 *
 * Names must already be lower case (RFC 9113 §8.2.1); strings are written as latin1.
 *
 * @throws TypeError when a string has a character above U+00FF.
 */
export function encodeHeaders(fields: readonly (readonly [string, string])[]): Buffer {
  let bound = 0;
  for (const [name, value] of fields) bound += 3 * MAX_INTEGER_BYTES + name.length + value.length;
  const output = Buffer.allocUnsafe(bound);
  let at = 0;
  const index = staticIndexOf();
  for (const [name, value] of fields) {
    const forName = index.get(name);
    const fieldIndex = forName?.byValue.get(value);
    if (fieldIndex !== undefined) {
      at = writeInteger(output, at, 0x80, 7, fieldIndex);
      continue;
    }
    at = writeInteger(output, at, 0x00, 4, forName?.nameIndex ?? 0);
    if (forName === undefined) at = writeString(output, at, name);
    at = writeString(output, at, value);
  }
  return output.subarray(0, at);
}

/** §5.1: `value` in the low `prefixBits` bits of a byte whose high bits are `pattern`, continued. */
function writeInteger(
  output: Buffer,
  at: number,
  pattern: number,
  prefixBits: number,
  value: number,
): number {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) {
    output[at++] = pattern | value;
    return at;
  }
  output[at++] = pattern | prefixMax;
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    output[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  output[at++] = rest;
  return at;
}

/** §5.2: a raw string literal (Huffman flag clear), its characters as latin1 bytes. */
function writeString(output: Buffer, at: number, text: string): number {
  at = writeInteger(output, at, 0x00, 7, text.length);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0xff) throw new TypeError(`header string with a character above U+00FF at ${i}`);
    output[at++] = unit;
  }
  return at;
}
