/**
 * HPACK with nghttp2 (behind node:http2) as the oracle. A node:http2 server answers a raw-socket
 * HTTP/2 client written here, which keeps the server's header blocks as they came off the wire: the
 * decoder must read them as the fields the server was given, and the server must read our encoder's
 * requests as the fields we gave it. The Huffman code is read off the server's encoded strings too.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeHeaders, HpackDecoder, HpackError } from '../../../../src/export/otlp/hpack.js';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  FLAG,
  FRAME,
  FrameReader,
  frame,
  SETTING,
  settingsPayload,
} from './h2-kit.js';

type Field = [name: string, value: string];

// ---------------------------------------------------------------------------------------------------
// A raw HTTP/2 client (RFC 9113): just enough to send requests and keep the response header blocks.

interface PendingStream {
  /** Complete header blocks, in order. */
  blocks: Buffer[];
  /** Fragments of the block being received (HEADERS then CONTINUATION). */
  fragments: Buffer[];
  endStream: boolean;
  resolve(blocks: Buffer[]): void;
  reject(error: Error): void;
}

/** A request not answered by then fails its test instead of hanging it. */
const REQUEST_TIMEOUT_MILLIS = 2000;

/** Open clients, closed after the tests even when one failed before closing its own. */
const openClients = new Set<RawHttp2Client>();

class RawHttp2Client {
  /** CONTINUATION frames received, to show that a test exercised them. */
  continuationFrames = 0;
  private readonly reader = new FrameReader();
  private readonly streams = new Map<number, PendingStream>();
  private nextStreamId = 1;
  private readonly socket: net.Socket;

  /** Connects and sends the preface and a SETTINGS frame with `settings` ([identifier, value]). */
  constructor(port: number, settings: [number, number][] = []) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.write(
      Buffer.concat([CLIENT_PREFACE, frame(FRAME.SETTINGS, 0, 0, settingsPayload(...settings))]),
    );
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (error) => this.failAll(error));
    this.socket.on('close', () => this.failAll(new Error('connection closed')));
    openClients.add(this);
  }

  /** Sends one request header block (END_STREAM) and resolves with the response's header blocks. */
  request(block: Buffer): Promise<Buffer[]> {
    assert.ok(block.length <= DEFAULT_MAX_FRAME_SIZE, 'request block fits one frame');
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    return new Promise<Buffer[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.streams.delete(streamId);
        reject(new Error(`stream ${streamId} not answered`));
      }, REQUEST_TIMEOUT_MILLIS);
      const settling =
        <T>(settle: (result: T) => void) =>
        (result: T) => {
          clearTimeout(timer);
          settle(result);
        };
      this.streams.set(streamId, {
        blocks: [],
        fragments: [],
        endStream: false,
        resolve: settling(resolve),
        reject: settling(reject),
      });
      this.socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, streamId, block));
    });
  }

  close(): void {
    this.socket.destroy();
    openClients.delete(this);
  }

  private read(chunk: Buffer): void {
    for (const { type, flags, streamId, payload } of this.reader.push(chunk)) {
      this.onFrame(type, flags, streamId, payload);
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const stream = this.streams.get(streamId);
    switch (type) {
      case FRAME.SETTINGS:
        if ((flags & FLAG.ACK) === 0) this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        return;
      case FRAME.PING:
        if ((flags & FLAG.ACK) === 0) this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, payload));
        return;
      case FRAME.HEADERS:
        if (stream === undefined) return;
        stream.endStream = (flags & FLAG.END_STREAM) !== 0;
        this.addFragment(streamId, stream, flags, headersFragment(flags, payload));
        return;
      case FRAME.CONTINUATION:
        this.continuationFrames++;
        if (stream !== undefined) this.addFragment(streamId, stream, flags, payload);
        return;
      case FRAME.DATA:
        if (stream !== undefined && (flags & FLAG.END_STREAM) !== 0) this.finish(streamId, stream);
        return;
      case FRAME.RST_STREAM:
        stream?.reject(new Error(`RST_STREAM, error code ${payload.readUInt32BE(0)}`));
        this.streams.delete(streamId);
        return;
      case FRAME.GOAWAY:
        this.failAll(new Error(`GOAWAY, error code ${payload.readUInt32BE(4)}`));
        return;
    }
  }

  private addFragment(streamId: number, stream: PendingStream, flags: number, fragment: Buffer): void {
    stream.fragments.push(fragment);
    if ((flags & FLAG.END_HEADERS) === 0) return;
    stream.blocks.push(Buffer.concat(stream.fragments));
    stream.fragments = [];
    if (stream.endStream) this.finish(streamId, stream);
  }

  private finish(streamId: number, stream: PendingStream): void {
    this.streams.delete(streamId);
    stream.resolve(stream.blocks);
  }

  private failAll(error: Error): void {
    for (const stream of this.streams.values()) stream.reject(error);
    this.streams.clear();
  }
}

/** A HEADERS frame's header block fragment: without its padding and priority fields. */
function headersFragment(flags: number, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if ((flags & FLAG.PADDED) !== 0) {
    end -= payload[0] as number;
    start = 1;
  }
  if ((flags & FLAG.PRIORITY) !== 0) start += 5;
  return payload.subarray(start, end);
}

// ---------------------------------------------------------------------------------------------------
// The node:http2 server: it answers each request with the next reply and records the request fields.

interface Reply {
  headers: Field[];
  /** Sent as a trailing HEADERS frame; without them the response headers end the stream. */
  trailers?: Field[];
}

/** node:http2 adds a `date` field when a response has none: fixed here, so replies are predictable. */
const DATE: Field = ['date', 'Thu, 01 Jan 2026 00:00:00 GMT'];
const OK_HEADERS: Field[] = [[':status', '200'], ['content-type', 'application/grpc'], DATE];

let server: http2.Http2Server;
let port: number;
let nextReply: Reply = { headers: OK_HEADERS };
/** Each request's fields as the server decoded them, in order. */
const requestsSeen: Field[][] = [];

/** node:http2's headers object for `fields`: a repeated name (adjacent in the tests) as an array. */
function toNodeHeaders(fields: readonly Field[]): http2.OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of fields) {
    const earlier = headers[name];
    if (earlier === undefined) headers[name] = value;
    else headers[name] = Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
  }
  return headers;
}

function pairs(flat: readonly string[]): Field[] {
  const fields: Field[] = [];
  for (let i = 0; i < flat.length; i += 2) fields.push([flat[i] as string, flat[i + 1] as string]);
  return fields;
}

before(async () => {
  server = http2.createServer();
  server.on('stream', (stream, _headers, _flags, rawHeaders?: readonly string[]) => {
    stream.on('error', () => {});
    requestsSeen.push(pairs(rawHeaders ?? []));
    const { headers, trailers } = nextReply;
    stream.respond(toNodeHeaders(headers), trailers ? { waitForTrailers: true } : { endStream: true });
    if (trailers) {
      stream.once('wantTrailers', () => stream.sendTrailers(toNodeHeaders(trailers)));
      stream.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  for (const client of openClients) client.close();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const EXPORT_REQUEST = (): Field[] => [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'],
  [':authority', `127.0.0.1:${port}`],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
  ['user-agent', 'otel-lambda-xray/0.1.0'],
  ['grpc-timeout', '10S'],
];

/** One request on `client`, answered with `reply`: the response's header blocks. */
function exchange(client: RawHttp2Client, reply: Reply, request = EXPORT_REQUEST()): Promise<Buffer[]> {
  nextReply = reply;
  return client.request(encodeHeaders(request));
}

/** What the server sent for `reply`: its header block and its trailer block, if any. */
function sent(reply: Reply): Field[][] {
  return reply.trailers ? [reply.headers, reply.trailers] : [reply.headers];
}

// ---------------------------------------------------------------------------------------------------
// HPACK written independently of the module under test, to build blocks and read nghttp2's strings.

/** §5.1: `value` with an N-bit prefix under the high bits `pattern`. */
function integer(value: number, prefixBits: number, pattern = 0): number[] {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) return [pattern | value];
  const bytes = [pattern | prefixMax];
  let rest = value - prefixMax;
  for (; rest >= 128; rest = Math.floor(rest / 128)) bytes.push(128 + (rest % 128));
  bytes.push(rest);
  return bytes;
}

/** §5.2: a string literal of `bytes`, already Huffman-coded when `huffman`. */
function stringLiteral(bytes: Buffer, huffman = false): Buffer {
  return Buffer.concat([Buffer.from(integer(bytes.length, 7, huffman ? 0x80 : 0)), bytes]);
}

/** §6.2.1 (`indexing`) or §6.2.2: a literal field with a literal name. */
function literalField(name: string, value: Buffer, options: { huffman?: boolean; indexing?: boolean } = {}) {
  return Buffer.concat([
    Buffer.from([options.indexing ? 0x40 : 0x00]),
    stringLiteral(Buffer.from(name, 'latin1')),
    stringLiteral(value, options.huffman),
  ]);
}

/** The value string literals of a block, as on the wire: the fields' other parts are skipped. */
function valueLiterals(block: Buffer): { huffman: boolean; bytes: Buffer }[] {
  const values: { huffman: boolean; bytes: Buffer }[] = [];
  let at = 0;
  const readInteger = (prefixBits: number): number => {
    const prefixMax = (1 << prefixBits) - 1;
    let value = (block[at++] as number) & prefixMax;
    if (value < prefixMax) return value;
    for (let factor = 1; ; factor *= 128) {
      const byte = block[at++] as number;
      value += (byte & 127) * factor;
      if (byte < 128) return value;
    }
  };
  const readString = () => {
    const huffman = (block[at] as number) >= 128;
    const length = readInteger(7);
    at += length;
    return { huffman, bytes: block.subarray(at - length, at) };
  };
  while (at < block.length) {
    const first = block[at] as number;
    if (first >= 0x80) readInteger(7);
    else if (first >= 0x20 && first < 0x40) readInteger(5);
    else {
      if (readInteger(first >= 0x40 ? 6 : 4) === 0) readString();
      values.push(readString());
    }
  }
  return values;
}

function toBits(bytes: Buffer): string {
  return [...bytes].map((byte) => byte.toString(2).padStart(8, '0')).join('');
}

/** A bit string, padded to whole bytes with `padding` (the start of EOS, by default). */
function fromBits(bits: string, padding = '1111111'): Buffer {
  const padded = bits + padding.slice(0, (8 - (bits.length % 8)) % 8);
  const bytes = Buffer.alloc(padded.length / 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(padded.slice(8 * i, 8 * i + 8), 2);
  return bytes;
}

/** The Huffman code read off nghttp2's output: each symbol's code as a bit string (256 is EOS). */
let huffmanCode: string[] = [];

/** The canonical code of `lengths` (Appendix B's construction): by length, then by symbol. */
function canonicalCode(lengths: readonly number[]): string[] {
  const symbols = lengths
    .map((_, symbol) => symbol)
    .sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b);
  const codes: string[] = [];
  let code = 0;
  let previousLength = 0;
  for (const symbol of symbols) {
    const length = lengths[symbol] as number;
    code *= 2 ** (length - previousLength);
    previousLength = length;
    codes[symbol] = code.toString(2).padStart(length, '0');
    code++;
  }
  return codes;
}

function huffmanEncode(bytes: Buffer): Buffer {
  return fromBits([...bytes].map((byte) => huffmanCode[byte]).join(''));
}

/** A block of one field `x` whose value is `bits` as a Huffman-coded string. */
function huffmanBlock(bits: Buffer): Buffer {
  return literalField('x', bits, { huffman: true });
}

function latin1(bytes: Iterable<number>): string {
  return Buffer.from([...bytes]).toString('latin1');
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Deterministic pseudo-random numbers (xorshift32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

// ---------------------------------------------------------------------------------------------------

/** 'a' has a five-bit code: a run of them makes nghttp2 Huffman-code a string around a rare byte. */
const RUN = 'a'.repeat(40);

describe('HPACK Huffman code (Appendix B)', () => {
  /** Response headers, then trailers: nghttp2's Huffman-coded RUN, then each byte 0x01-0xff + RUN. */
  let probeBlocks: Buffer[];
  let probeReply: Reply;
  const probes = [RUN, ...range(1, 255).map((byte) => latin1([byte]) + RUN)];

  before(async () => {
    // Trailers: node:http2 adds nothing to them, so every value literal in the block is a probe.
    const client = new RawHttp2Client(port);
    probeReply = { headers: OK_HEADERS, trailers: probes.map((value): Field => ['x-probe', value]) };
    probeBlocks = await exchange(client, probeReply);
    client.close();
    const literals = valueLiterals(probeBlocks[1] as Buffer);
    assert.equal(literals.length, probes.length);
    assert.ok(
      literals.every((literal) => literal.huffman),
      'nghttp2 Huffman-coded every probe',
    );
    const [runLiteral, ...byteLiterals] = literals.map((literal) => toBits(literal.bytes));
    const runBits = '00011'.repeat(RUN.length); // 'a' is 00011 in the RFC
    assert.match(runLiteral as string, new RegExp(`^${runBits}1{0,7}$`), "nghttp2 codes 'a' as 00011");
    huffmanCode = new Array(257).fill('');
    byteLiterals.forEach((bits, i) => {
      const match = new RegExp(`^([01]{5,30})${runBits}1{0,7}$`).exec(bits);
      assert.ok(match, `probe for byte ${i + 1}`);
      huffmanCode[i + 1] = match[1] as string;
    });
    // node:http2 refuses to send 0x00, and EOS is never sent: with the RFC's lengths for them (13 and
    // 30 bits), the canonical code gives them theirs. The first test checks that this is consistent.
    const completed = canonicalCode(completedLengths());
    huffmanCode[0] = completed[0] as string;
    huffmanCode[256] = completed[256] as string;
  });

  /** The code lengths observed, with the RFC's for 0x00 and EOS. */
  function completedLengths(): number[] {
    const lengths = huffmanCode.map((code) => code.length);
    lengths[0] = 13;
    lengths[256] = 30;
    return lengths;
  }

  it('nghttp2 uses a canonical code whose only free codes are those of 0x00 and EOS', () => {
    // A canonical code is determined by its lengths: the RFC's 0x00 (13 bits) and EOS (30 bits) must
    // complete the observed code exactly, and leave every observed code where it is.
    const lengths = completedLengths();
    assert.ok(
      lengths.every((length) => length >= 5 && length <= 30),
      'lengths between 5 and 30',
    );
    const kraft = lengths.reduce((sum, length) => sum + 2 ** (30 - length), 0);
    assert.equal(kraft, 2 ** 30, 'Kraft sum exactly 1: the code is complete');
    const canonical = canonicalCode(lengths);
    for (let symbol = 1; symbol < 256; symbol++) {
      assert.equal(huffmanCode[symbol], canonical[symbol], `code of byte ${symbol}`);
    }
    assert.equal(canonical[0], '1111111111000', '0x00 is 0x1ff8, 13 bits');
    assert.equal(canonical[256], '1'.repeat(30), 'EOS is 30 one bits');
    assert.equal(huffmanCode[0x30], '00000', "'0'");
    assert.equal(huffmanCode[0x61], '00011', "'a'");
    assert.equal(huffmanCode[0x20], '010100', "' '");
  });

  it('the decoder reads every byte value as nghttp2 coded it', () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(
      probeBlocks.map((block) => decoder.decode(block)),
      sent(probeReply),
    );
  });

  it('round-trips every byte value, 0x00, CR and LF included, through a test encoder', () => {
    const decoder = new HpackDecoder();
    const strings = [
      ...range(0, 255).map((byte) => [byte]),
      range(0, 255),
      range(0, 255).reverse(),
      [0x00, 0x0d, 0x0a, 0x00, 0x16, 0x0a],
      [],
    ];
    const next = random(7);
    for (let i = 0; i < 200; i++) strings.push(Array.from({ length: 1 + i }, () => Math.floor(next() * 256)));
    for (const bytes of strings) {
      const value = Buffer.from(bytes);
      assert.deepEqual(decoder.decode(huffmanBlock(huffmanEncode(value))), [['x', value.toString('latin1')]]);
    }
  });

  it('refuses EOS in a string, padding over 7 bits, and padding that is not ones', () => {
    const decoder = new HpackDecoder();
    const a = huffmanCode[0x61] as string;
    const eos = huffmanCode[256] as string;
    assert.deepEqual(decoder.decode(huffmanBlock(fromBits(`${a}111`, ''))), [['x', 'a']], 'control: valid');
    assert.deepEqual(decoder.decode(huffmanBlock(Buffer.alloc(0))), [['x', '']], 'control: empty');
    const malformed: Record<string, string> = {
      'EOS between symbols': a + eos + a,
      'EOS at the end': `${a + eos}11111`,
      'EOS alone': `${eos}11`,
      'padding of 8 ones': `${huffmanCode[0x2a]}11111111`, // '*' has an 8-bit code
      'padding of 11 ones': `${a}11111111111`,
      'a byte of padding only': '11111111',
      'padding with a zero': `${a}110`,
      'padding of zeros': `${a}000`,
      'a truncated code': `${huffmanCode[0x80]}`.slice(0, 16),
    };
    for (const [what, bits] of Object.entries(malformed)) {
      assert.equal(bits.length % 8, 0, `${what}: whole bytes`);
      assert.throws(() => decoder.decode(huffmanBlock(fromBits(bits, ''))), HpackError, what);
    }
  });
});

describe('HpackDecoder reads what nghttp2 encodes', () => {
  it('every byte value 0x01-0xff in values, Huffman-coded and raw', async () => {
    const client = new RawHttp2Client(port);
    const decoder = new HpackDecoder();
    // Two rare bytes are shorter raw than Huffman-coded; among common letters, Huffman is shorter.
    const values = range(1, 255).flatMap((byte) => [latin1([byte, byte]), `abc${latin1([byte])}${RUN}`]);
    const reply: Reply = {
      headers: [[':status', '200'], ...values.map((value): Field => ['x-byte', value]), DATE],
    };
    const [block] = await exchange(client, reply);
    client.close();
    const literals = valueLiterals(block as Buffer);
    assert.ok(literals.some((literal) => literal.huffman) && literals.some((literal) => !literal.huffman));
    assert.deepEqual(decoder.decode(block as Buffer), reply.headers);
  });

  it('keeps the dynamic table across blocks: the same fields on several requests', async () => {
    const client = new RawHttp2Client(port);
    const decoder = new HpackDecoder();
    const blockLengths: number[] = [];
    for (let call = 0; call < 6; call++) {
      const reply: Reply = {
        headers: [
          [':status', '200'],
          ['content-type', 'application/grpc'],
          ['grpc-accept-encoding', 'identity,deflate,gzip'],
          ['x-call', `call ${call % 3}`],
          DATE,
        ],
        trailers: [
          ['grpc-status', '0'],
          ['grpc-message', ''],
        ],
      };
      const blocks = await exchange(client, reply);
      assert.deepEqual(
        blocks.map((block) => decoder.decode(block)),
        sent(reply),
        `call ${call}`,
      );
      blockLengths.push(blocks[0]?.length ?? 0);
    }
    client.close();
    // Later blocks index the table: a byte per field (a premise of the test, checked).
    assert.ok(
      blockLengths.slice(3).every((length) => length <= 6),
      `block lengths ${blockLengths}`,
    );
  });

  it('long names and values: multi-byte integers and CONTINUATION frames', async () => {
    const client = new RawHttp2Client(port);
    const decoder = new HpackDecoder();
    const next = random(11);
    const text = (length: number) =>
      Array.from({ length }, () => String.fromCharCode(0x21 + Math.floor(next() * 94))).join('');
    const reply: Reply = {
      headers: [
        [':status', '200'],
        ...[126, 127, 128, 255, 300, 4000, 30_000].map((length): Field => [`x-${length}`, text(length)]),
        [`x-${'n'.repeat(300)}`, 'long name'],
        DATE,
      ],
      trailers: [['grpc-message', text(20_000)]],
    };
    const blocks = await exchange(client, reply);
    client.close();
    assert.ok(client.continuationFrames >= 2, 'blocks over 16 KiB came in CONTINUATION frames');
    assert.deepEqual(
      blocks.map((block) => decoder.decode(block)),
      sent(reply),
    );
  });

  it('evicts by size: many fields through the default table, and a smaller table we advertise', async () => {
    for (const tableSize of [4096, 256]) {
      const settings: [number, number][] = tableSize === 4096 ? [] : [[SETTING.HEADER_TABLE_SIZE, tableSize]];
      const client = new RawHttp2Client(port, settings);
      const decoder = new HpackDecoder(tableSize);
      const blocks: Buffer[] = [];
      for (let call = 0; call < 4; call++) {
        const fields = range(0, 99).map((i): Field => [`x-field-${i >> 1}`, `value ${i % (30 + call * 10)}`]);
        const reply: Reply = { headers: [[':status', '200'], ...fields, DATE] };
        blocks.push(...(await exchange(client, reply)));
        assert.deepEqual(
          decoder.decode(blocks.at(-1) as Buffer),
          reply.headers,
          `table ${tableSize}, call ${call}`,
        );
      }
      client.close();
      if (tableSize === 256) {
        // nghttp2 announced the smaller size with a dynamic table size update (§6.3): 256 = 31 + 225.
        assert.deepEqual([...(blocks[0] as Buffer).subarray(0, 3)], [0x3f, 0xe1, 0x01]);
      }
    }
  });

  it('static table: each entry and name nghttp2 indexes, never-indexed fields too', async () => {
    const client = new RawHttp2Client(port);
    const decoder = new HpackDecoder();
    const fields: Field[] = [
      ['accept-charset', 'utf-8'],
      ['accept-encoding', 'gzip, deflate'],
      ['accept-language', 'en'],
      ['accept-ranges', 'bytes'],
      ['accept', '*/*'],
      ['access-control-allow-origin', '*'],
      ['age', '1'],
      ['allow', 'POST'],
      ['authorization', 'Bearer token'], // nghttp2 never indexes it (§6.2.3)
      ['cache-control', 'no-cache'],
      ['content-disposition', 'inline'],
      ['content-encoding', 'identity'],
      ['content-language', 'en'],
      ['content-location', '/x'],
      ['content-range', 'bytes 0-0/1'],
      ['content-type', 'application/grpc'],
      ['cookie', 'a=b'],
      ['etag', '"x"'],
      ['expect', '100-continue'],
      ['expires', '0'],
      ['from', 'a@b.c'],
      ['if-match', '*'],
      ['if-modified-since', 'x'],
      ['if-none-match', '*'],
      ['if-range', 'x'],
      ['if-unmodified-since', 'x'],
      ['last-modified', 'x'],
      ['link', '<x>'],
      ['location', '/y'],
      ['max-forwards', '1'],
      ['proxy-authenticate', 'Basic'],
      ['proxy-authorization', 'Basic x'],
      ['range', 'bytes=0-'],
      ['referer', '/z'],
      ['refresh', '1'],
      ['retry-after', '1'],
      ['server', 'otelcol'],
      ['set-cookie', 'a=b'],
      ['strict-transport-security', 'max-age=1'],
      ['user-agent', 'ua'],
      ['vary', '*'],
      ['via', '1.1 x'],
      ['www-authenticate', 'Basic'],
      DATE,
    ];
    for (const status of ['200', '204', '206', '304', '400', '404', '500']) {
      const reply: Reply = { headers: [[':status', status], ...fields] };
      const [block] = await exchange(client, reply);
      assert.deepEqual(decoder.decode(block as Buffer), reply.headers, `status ${status}`);
      if (status === '200') assert.ok(block?.includes(0x10), 'accept-encoding: gzip, deflate was indexed');
    }
    client.close();
  });

  it('gRPC responses: headers and trailers, and trailers-only', async () => {
    const client = new RawHttp2Client(port);
    const decoder = new HpackDecoder();
    const replies: Reply[] = [
      {
        headers: [
          [':status', '200'],
          ['content-type', 'application/grpc'],
          ['grpc-encoding', 'identity'],
          DATE,
        ],
        trailers: [
          ['grpc-status', '0'],
          ['grpc-message', ''],
        ],
      },
      {
        headers: OK_HEADERS,
        trailers: [
          ['grpc-status', '14'],
          ['grpc-message', 'connection%20refused%3A%20%E2%9C%93'],
        ],
      },
      {
        headers: [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '8'], DATE],
      },
    ];
    for (const reply of replies) {
      assert.deepEqual(
        (await exchange(client, reply)).map((block) => decoder.decode(block)),
        sent(reply),
      );
    }
    client.close();
  });
});

describe('encodeHeaders is read by nghttp2 as written', () => {
  it('a gRPC export request, repeated on one connection', async () => {
    const client = new RawHttp2Client(port);
    const request: Field[] = [
      ...EXPORT_REQUEST(),
      ['x-api-key', `key-${'k'.repeat(300)}`],
      ['x-tenant', 't1'],
    ];
    requestsSeen.length = 0;
    for (let call = 0; call < 3; call++) await exchange(client, { headers: OK_HEADERS }, request);
    client.close();
    assert.deepEqual(requestsSeen, [request, request, request]);
  });

  it('every static-table name and entry a request may carry', async () => {
    const client = new RawHttp2Client(port);
    const request: Field[] = [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'collector:4317'],
      ['accept-encoding', 'gzip, deflate'],
      ['accept-charset', ''],
      ...[
        'accept-language',
        'accept-ranges',
        'accept',
        'access-control-allow-origin',
        'age',
        'allow',
        'authorization',
        'cache-control',
        'content-disposition',
        'content-encoding',
        'content-language',
        'content-length',
        'content-location',
        'content-range',
        'content-type',
        'cookie',
        'date',
        'etag',
        'expect',
        'expires',
        'from',
        'if-match',
        'if-modified-since',
        'if-none-match',
        'if-range',
        'if-unmodified-since',
        'last-modified',
        'link',
        'location',
        'max-forwards',
        'proxy-authenticate',
        'proxy-authorization',
        'range',
        'referer',
        'refresh',
        'retry-after',
        'server',
        'set-cookie',
        'strict-transport-security',
        'user-agent',
        'vary',
        'via',
        'www-authenticate',
      ].map((name): Field => [name, name === 'content-length' ? '0' : `${name} value`]),
    ];
    requestsSeen.length = 0;
    await exchange(client, { headers: OK_HEADERS }, request);
    client.close();
    assert.deepEqual(requestsSeen, [request]);
  });

  it('indexes exact static entries and static names, and writes the rest literally', () => {
    assert.deepEqual([...encodeHeaders([[':method', 'POST']])], [0x83]);
    assert.deepEqual([...encodeHeaders([[':scheme', 'http']])], [0x86]);
    assert.deepEqual([...encodeHeaders([[':path', '/x']])], [0x04, 0x02, 0x2f, 0x78]);
    assert.deepEqual([...encodeHeaders([['content-type', 'a']])], [0x0f, 0x10, 0x01, 0x61]); // 31 = 15 + 16
    assert.deepEqual([...encodeHeaders([['te', 'x']])], [0x00, 0x02, 0x74, 0x65, 0x01, 0x78]);
    const long = encodeHeaders([['x', 'v'.repeat(300)]]);
    assert.deepEqual([...long.subarray(0, 6)], [0x00, 0x01, 0x78, 0x7f, 0xad, 0x01]); // 300 = 127 + 173
  });

  it('leaves the decoder’s dynamic table empty, and round-trips through HpackDecoder', () => {
    const decoder = new HpackDecoder();
    const fields: Field[] = [...EXPORT_REQUEST(), ['x-bytes', latin1(range(0, 255))], ['', '']];
    const block = encodeHeaders(fields);
    assert.deepEqual(encodeHeaders(fields), block, 'stateless');
    assert.deepEqual(decoder.decode(block), fields);
    assert.throws(() => decoder.decode(Buffer.from([0x80 | 62])), HpackError, 'nothing was added');
  });

  it('refuses characters above U+00FF', () => {
    assert.throws(() => encodeHeaders([['x', 'caf\u00e9 \u2713']]), TypeError);
    assert.throws(() => encodeHeaders([['\u0100', 'v']]), TypeError);
  });
});

describe('HpackDecoder dynamic table rules', () => {
  const entry = (name: string, value: string) => literalField(name, Buffer.from(value), { indexing: true });
  const indexed = (index: number) => Buffer.from(integer(index, 7, 0x80));
  const sizeUpdate = (size: number) => Buffer.from(integer(size, 5, 0x20));

  it('indexes the newest entry first and evicts the oldest by size', () => {
    const decoder = new HpackDecoder(200);
    // Each entry is 1 + 50 + 32 = 83 bytes: two fit in 200, a third evicts the first.
    decoder.decode(Buffer.concat([entry('a', 'a'.repeat(50)), entry('b', 'b'.repeat(50))]));
    assert.deepEqual(decoder.decode(Buffer.concat([indexed(62), indexed(63)])), [
      ['b', 'b'.repeat(50)],
      ['a', 'a'.repeat(50)],
    ]);
    decoder.decode(entry('c', 'c'.repeat(50)));
    assert.deepEqual(decoder.decode(Buffer.concat([indexed(62), indexed(63)])), [
      ['c', 'c'.repeat(50)],
      ['b', 'b'.repeat(50)],
    ]);
    assert.throws(() => decoder.decode(indexed(64)), HpackError);
  });

  it('counts each entry as its name and value plus 32 bytes (§4.1)', () => {
    const decoder = new HpackDecoder(100);
    // 1 + 17 + 32 = 50 and 1 + 18 + 32 = 51: together one byte over the maximum.
    decoder.decode(Buffer.concat([entry('a', 'a'.repeat(17)), entry('b', 'b'.repeat(18))]));
    assert.deepEqual(decoder.decode(indexed(62)), [['b', 'b'.repeat(18)]]);
    assert.throws(() => decoder.decode(indexed(63)), HpackError, 'the first was evicted');
    // An entry exactly the maximum size fits.
    decoder.decode(entry('c', 'c'.repeat(67)));
    assert.deepEqual(decoder.decode(indexed(62)), [['c', 'c'.repeat(67)]]);
  });

  it('empties the table for an entry larger than it, without adding it', () => {
    const decoder = new HpackDecoder(100);
    decoder.decode(entry('a', 'a'));
    assert.deepEqual(decoder.decode(entry('big', 'x'.repeat(70))), [['big', 'x'.repeat(70)]]);
    assert.throws(() => decoder.decode(indexed(62)), HpackError);
  });

  it('applies size updates at the start of a block: lower evicts, zero empties, back up to the maximum', () => {
    const decoder = new HpackDecoder(300);
    decoder.decode(Buffer.concat([entry('a', 'a'.repeat(50)), entry('b', 'b'.repeat(50))]));
    assert.deepEqual(decoder.decode(Buffer.concat([sizeUpdate(100), indexed(62)])), [['b', 'b'.repeat(50)]]);
    assert.throws(() => decoder.decode(indexed(63)), HpackError, 'the oldest was evicted');
    // Two updates in a row (§4.2), the last back to the maximum: the table is empty, then refills.
    decoder.decode(Buffer.concat([sizeUpdate(0), sizeUpdate(300), entry('c', 'c')]));
    assert.deepEqual(decoder.decode(indexed(62)), [['c', 'c']]);
    assert.throws(() => decoder.decode(indexed(63)), HpackError, 'zero emptied the table');
  });
});

describe('HpackDecoder refuses malformed blocks with HpackError', () => {
  /** 'a0 a' Huffman-coded by hand from the RFC's codes: 00011 00000 010100 00011, then 111. */
  const A0_SPACE_A = [0b00011000, 0b00010100, 0b00011111];
  const malformed: Record<string, number[]> = {
    'index 0': [0x80],
    'index past the static table, dynamic table empty': [0x80 | 62],
    'index past the table, multi-byte': [0xff, 0x80, 0x01],
    'literal name index past the table': [0x7f, 0x07, 0x01, 0x61], // 70 = 63 + 7
    'truncated integer': [0xff],
    'truncated integer after a continuation byte': [0xff, 0x80],
    'integer overflow': [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    'integer with too many continuation bytes': [0x3f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // 31, zero-padded
    'string length past the end of the block': [0x00, 0x01, 0x61, 0x05, 0x61, 0x62],
    'string length past the end, huge': [0x00, 0x01, 0x61, 0x7f, 0xff, 0xff, 0xff, 0x07],
    'literal without its name': [0x40],
    'literal without its value': [0x00, 0x01, 0x61],
    'literal with indexed name but no value': [0x44],
    'Huffman padding with zeros': [0x00, 0x01, 0x61, 0x81, 0x18],
    'Huffman padding over 7 bits': [0x00, 0x01, 0x61, 0x82, 0x1f, 0xff],
    'EOS inside a Huffman string': [0x00, 0x01, 0x61, 0x84, 0xff, 0xff, 0xff, 0xff],
    'table size update above the maximum': [0x3f, 0xe2, 0x1f], // 4097 = 31 + 4066
    'table size update after a field': [0x88, 0x20],
    'table size update after a field, same size': [0x88, 0x3f, 0xe1, 0x1f], // 4096
  };
  for (const [what, bytes] of Object.entries(malformed)) {
    it(what, () => {
      assert.throws(() => new HpackDecoder().decode(Buffer.from(bytes)), HpackError);
    });
  }

  it('accepts what the cases above are near (so each is malformed for its stated reason)', () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(literalField('x', Buffer.from(A0_SPACE_A), { huffman: true })), [
      ['x', 'a0 a'],
    ]);
    assert.deepEqual(decoder.decode(Buffer.from([0x80 | 61])), [['www-authenticate', '']]);
    assert.deepEqual(decoder.decode(Buffer.from([0x00, 0x01, 0x61, 0x02, 0x61, 0x62])), [['a', 'ab']]);
    assert.deepEqual(decoder.decode(Buffer.from([0x00, 0x01, 0x61, 0x81, 0x1f])), [['a', 'a']]);
    assert.deepEqual(decoder.decode(Buffer.from([0x3f, 0xe1, 0x1f, 0x88])), [[':status', '200']]);
    assert.deepEqual(decoder.decode(Buffer.from([0x3f, 0x80, 0x80, 0x80, 0x80, 0x00, 0x88])), [
      [':status', '200'],
    ]);
    assert.deepEqual(decoder.decode(new Uint8Array([0x82])), [[':method', 'GET']], 'a plain Uint8Array');
  });

  it('random and mutated blocks: fields or HpackError, never another error', () => {
    const next = random(3);
    const valid = Buffer.concat([
      encodeHeaders(EXPORT_REQUEST()),
      literalField('x', Buffer.from(A0_SPACE_A), { huffman: true, indexing: true }),
      Buffer.from([0x80 | 62]),
    ]);
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const block =
        i % 2 === 0
          ? Buffer.from(Array.from({ length: 1 + Math.floor(next() * 24) }, () => Math.floor(next() * 256)))
          : Buffer.from(valid);
      if (i % 2 === 1) block[Math.floor(next() * block.length)] ^= 1 << Math.floor(next() * 8);
      try {
        new HpackDecoder().decode(block);
      } catch (error) {
        assert.ok(error instanceof HpackError, `block ${block.toString('hex')}: ${error}`);
        refused++;
      }
    }
    assert.ok(refused > 5000, `${refused} refused`);
  });
});
