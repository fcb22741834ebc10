/**
 * `PlainGrpcClient`'s hand-written HTTP/2 client against misbehaving and limiting peers: flow
 * control (the windows and frame size granted, SETTINGS lowering a window mid-request), the
 * collector's concurrency limit, resets (RST_STREAM both ways, deadlines), GOAWAY and retries on a
 * new connection, padding, CONTINUATION, PING, frames for closed streams and bytes that are not
 * frames, and liveness (what keeps the process alive, close() and its grace). The peers are
 * node:http2 servers, and raw `node:net` peers writing frames by hand for what node:http2 will not
 * do on demand. The raw peer also checks what the client sends: its frames never exceed the windows
 * and frame size the peer granted, and it sends no DATA on a stream it closed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GrpcHttp2Client } from '../../../../src/export/otlp/grpc-http2-client.js';
import type { GrpcCallError } from '../../../../src/export/otlp/grpc-status.js';
import { encodeHeaders } from '../../../../src/export/otlp/hpack.js';
import { PlainGrpcClient } from '../../../../src/export/otlp/plain-grpc-client.js';
import {
  answerGrpcOk,
  FLAG,
  FRAME,
  type Frame,
  FrameReader,
  frame,
  type Http2TestServer,
  SETTING,
  serveHttp2,
  settingsPayload,
  silentTcpServer,
  uint32,
} from './h2-kit.js';

const run = promisify(execFile);

/** A gRPC request: the 5-byte prefix, then `size` bytes counting up (so reordering shows). */
function grpcRequest(size: number): Buffer {
  const message = Buffer.alloc(5 + size);
  message.writeUInt32BE(size, 1);
  for (let i = 0; i < size; i++) message[5 + i] = i % 251;
  return message;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure naming `what` after `ms`: a test that would hang fails instead. */
async function within<V>(promise: Promise<V>, what: string, ms = 2000): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** HPACK literal field with incremental indexing, new name (RFC 7541 §6.2.1), short ASCII strings. */
function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x40, name.length]),
    Buffer.from(name, 'latin1'),
    Buffer.from([value.length]),
    Buffer.from(value, 'latin1'),
  ]);
}

const RESPONSE_HEADERS = encodeHeaders([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
const OK_TRAILERS = encodeHeaders([['grpc-status', '0']]);

/**
 * One connection of a raw HTTP/2 peer: parses what the client sends, acknowledges its SETTINGS, and
 * keeps the flow-control view of the client's sending to report any frame past a window.
 */
class Peer {
  readonly frames: Frame[] = [];
  readonly violations: string[] = [];
  /** Bytes of DATA received per stream, and whether it ended. */
  readonly received = new Map<number, Buffer[]>();
  closed = false;
  readonly whenClosed: Promise<void>;
  private readonly reader = new FrameReader({
    expectPreface: true,
    onBadPreface: () => this.violations.push('bad preface'),
  });
  /** The client's view of our SETTINGS_INITIAL_WINDOW_SIZE, once acknowledged. */
  private initialWindow = 65_535;
  /** Our SETTINGS not acknowledged yet: the new initial window each carries, if any. */
  private readonly unacked: (number | undefined)[] = [];
  private connectionWindow = 65_535;
  private readonly streamWindows = new Map<number, number>();
  /** Streams the client closed (END_STREAM or RST_STREAM from it): no DATA may follow. */
  private readonly clientClosed = new Set<number>();
  maxFrame = 16_384;

  constructor(
    readonly socket: net.Socket,
    private readonly onFrame: (peer: Peer, frame: Frame) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    this.whenClosed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  send(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): void {
    if (type === FRAME.SETTINGS && (flags & FLAG.ACK) === 0) {
      let window: number | undefined;
      for (let offset = 0; offset < payload.length; offset += 6) {
        const id = payload.readUInt16BE(offset);
        const value = payload.readUInt32BE(offset + 2);
        if (id === SETTING.INITIAL_WINDOW_SIZE) window = value;
        if (id === SETTING.MAX_FRAME_SIZE) this.maxFrame = Math.max(this.maxFrame, value);
      }
      this.unacked.push(window);
    }
    if (type === FRAME.WINDOW_UPDATE) {
      const increment = payload.readUInt32BE(0);
      if (streamId === 0) this.connectionWindow += increment;
      else if (this.streamWindows.has(streamId)) {
        this.streamWindows.set(streamId, (this.streamWindows.get(streamId) as number) + increment);
      }
    }
    if (!this.socket.destroyed) this.socket.write(frame(type, flags, streamId, payload));
  }

  /** The client's send window on `streamId` once it has read all we sent. */
  streamWindow(streamId: number): number {
    return this.streamWindows.get(streamId) ?? Number.NaN;
  }

  /** The whole request of `streamId`, once its END_STREAM arrived. */
  body(streamId: number): Buffer {
    return Buffer.concat(this.received.get(streamId) ?? []);
  }

  framesOf(type: number, streamId?: number): Frame[] {
    return this.frames.filter((f) => f.type === type && (streamId === undefined || f.streamId === streamId));
  }

  async waitFor(predicate: (f: Frame) => boolean, what: string, ms = 2000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closed || Date.now() > deadline) throw new Error(`the client sent no ${what}`);
      await sleep(5);
    }
  }

  /** Sends a PING and waits for its ACK: everything the client sent before is in `frames`. */
  async barrier(): Promise<void> {
    const data = Buffer.from(`b${Math.random()}`.slice(0, 8).padEnd(8, '0'), 'latin1');
    this.send(FRAME.PING, 0, 0, data);
    await this.waitFor(
      (f) => f.type === FRAME.PING && f.flags === FLAG.ACK && f.payload.equals(data),
      'PING ACK',
    );
  }

  private read(chunk: Buffer): void {
    for (const f of this.reader.push(chunk)) {
      this.account(f);
      this.frames.push(f);
      if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0) this.send(FRAME.SETTINGS, FLAG.ACK, 0);
      this.onFrame(this, f);
    }
  }

  private account(f: Frame): void {
    if (f.payload.length > this.maxFrame) this.violations.push(`a ${f.payload.length}-byte frame`);
    switch (f.type) {
      case FRAME.HEADERS:
        if (!this.streamWindows.has(f.streamId)) this.streamWindows.set(f.streamId, this.initialWindow);
        if (f.flags & FLAG.END_STREAM) this.clientClosed.add(f.streamId);
        return;
      case FRAME.DATA: {
        const id = f.streamId;
        if (this.clientClosed.has(id))
          this.violations.push(`DATA on stream ${id} after the client closed it`);
        const window = (this.streamWindows.get(id) ?? Number.NaN) - f.payload.length;
        this.streamWindows.set(id, window);
        this.connectionWindow -= f.payload.length;
        if (!(window >= 0)) this.violations.push(`stream ${id} window ${window}`);
        if (this.connectionWindow < 0) this.violations.push(`connection window ${this.connectionWindow}`);
        const chunks = this.received.get(id) ?? [];
        chunks.push(f.payload);
        this.received.set(id, chunks);
        if (f.flags & FLAG.END_STREAM) this.clientClosed.add(id);
        return;
      }
      case FRAME.RST_STREAM:
        this.clientClosed.add(f.streamId);
        return;
      case FRAME.SETTINGS:
        if (f.flags & FLAG.ACK) {
          const window = this.unacked.shift();
          if (window !== undefined) {
            const delta = window - this.initialWindow;
            this.initialWindow = window;
            for (const [id, value] of this.streamWindows) this.streamWindows.set(id, value + delta);
          }
        }
        return;
      default:
        return;
    }
  }
}

const isRequestEnd = (f: Frame) => f.type === FRAME.DATA && (f.flags & FLAG.END_STREAM) !== 0;

/** Headers, a 5-byte message, `grpc-status: 0` trailers. */
function answerOk(peer: Peer, streamId: number): void {
  peer.send(FRAME.HEADERS, FLAG.END_HEADERS, streamId, RESPONSE_HEADERS);
  peer.send(FRAME.DATA, 0, streamId, Buffer.alloc(5));
  peer.send(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, streamId, OK_TRAILERS);
}

interface RawServer {
  origin: string;
  peers: Peer[];
}

const cleanups: (() => unknown)[] = [];

/** A raw HTTP/2 peer: `greet` on each connection (default: empty SETTINGS), `onFrame` per frame. */
async function rawServer(
  onFrame: (peer: Peer, f: Frame) => void,
  greet: (peer: Peer) => void = (peer) => peer.send(FRAME.SETTINGS, 0, 0),
): Promise<RawServer> {
  const peers: Peer[] = [];
  const server = net.createServer((socket) => {
    const peer = new Peer(socket, onFrame);
    peers.push(peer);
    greet(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const peer of peers) peer.socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, peers };
}

/** A node:http2 server (see `serveHttp2`), closed after the test. */
async function h2Server(...args: Parameters<typeof serveHttp2>): Promise<Http2TestServer> {
  const server = await serveHttp2(...args);
  cleanups.push(server.close);
  return server;
}

function newClient(origin: string, metadata: Record<string, string> = {}): PlainGrpcClient {
  const client = new PlainGrpcClient({ origin, metadata, userAgent: 'review' });
  cleanups.push(() => client.close(100));
  return client;
}

interface Outcome {
  error: GrpcCallError | undefined;
  body: Buffer | undefined;
  /** How many times the callback ran (so far). */
  calls: number;
  ms: number;
}

/** One call; resolves on the first callback, and keeps counting later ones in `calls`. */
function call(
  client: PlainGrpcClient | GrpcHttp2Client,
  request: Buffer = grpcRequest(16),
  timeoutMillis = 1500,
  onSent?: () => void,
): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const outcome: Outcome = { error: undefined, body: undefined, calls: 0, ms: 0 };
    const callback = (error: GrpcCallError | undefined, body: Buffer | undefined) => {
      outcome.calls++;
      if (outcome.calls > 1) return;
      outcome.error = error;
      outcome.body = body;
      outcome.ms = performance.now() - started;
      resolve(outcome);
    };
    if (client instanceof PlainGrpcClient)
      client.unaryCall('/svc/Export', request, timeoutMillis, callback, onSent);
    else client.unaryCall('/svc/Export', request, timeoutMillis, callback);
  });
}

/** Fails unless `outcome` succeeded, naming the error. */
function assertOk(outcome: Outcome, what = 'call'): void {
  assert.equal(outcome.error, undefined, `${what}: ${outcome.error?.message}`);
}

describe('PlainGrpcClient against misbehaving and limiting HTTP/2 peers', () => {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  // ---------------------------------------------------------------- frame parsing

  it('reads a response whose frames arrive one byte per TCP write', async () => {
    const message = Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x01, 0x08]);
    const server = await rawServer((peer, f) => {
      if (!isRequestEnd(f)) return;
      const bytes = Buffer.concat([
        frame(FRAME.HEADERS, FLAG.END_HEADERS, f.streamId, RESPONSE_HEADERS),
        frame(FRAME.DATA, 0, f.streamId, message),
        frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, f.streamId, OK_TRAILERS),
      ]);
      void (async () => {
        for (const byte of bytes) {
          peer.socket.write(Buffer.from([byte]));
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
    });
    const client = newClient(server.origin);
    for (let i = 0; i < 2; i++) {
      const outcome = await call(client);
      assertOk(outcome);
      assert.deepEqual(outcome.body, message);
    }
    assert.equal(server.peers.length, 1);
  });

  it('reads HEADERS with PADDED and PRIORITY, padded DATA (all padding too), PRIORITY and unknown frames', async () => {
    const server = await rawServer((peer, f) => {
      if (!isRequestEnd(f)) return;
      const id = f.streamId;
      // HEADERS: pad length 3, priority (exclusive bit, dependency 0, weight 16), block, padding.
      const headers = Buffer.concat([
        Buffer.from([3, 0x80, 0, 0, 0, 16]),
        RESPONSE_HEADERS,
        Buffer.alloc(3, 0xee),
      ]);
      peer.send(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.PADDED | FLAG.PRIORITY, id, headers);
      peer.send(FRAME.PRIORITY, 0, id, Buffer.from([0, 0, 0, 0, 200]));
      peer.send(0xfa, 0xff, 0, Buffer.from('unknown extension frame'));
      peer.send(
        FRAME.DATA,
        FLAG.PADDED,
        id,
        Buffer.concat([Buffer.from([10]), Buffer.from([0, 0, 0, 0, 2, 7, 7]), Buffer.alloc(10)]),
      );
      peer.send(FRAME.DATA, FLAG.PADDED, id, Buffer.from([4, 0, 0, 0, 0])); // only padding
      peer.send(
        FRAME.HEADERS,
        FLAG.END_HEADERS | FLAG.END_STREAM | FLAG.PADDED,
        id,
        Buffer.concat([Buffer.from([0]), OK_TRAILERS]),
      );
    });
    const client = newClient(server.origin);
    const outcome = await call(client);
    assertOk(outcome);
    assert.deepEqual(outcome.body, Buffer.from([0, 0, 0, 0, 2, 7, 7]));
    assertOk(await call(client), 'second call');
  });

  it('answers a PING with an ACK of the same payload, and never answers a PING ACK', async () => {
    const server = await rawServer((peer, f) => {
      if (isRequestEnd(f)) answerOk(peer, f.streamId);
    });
    const client = newClient(server.origin);
    assertOk(await call(client));
    const peer = server.peers[0] as Peer;
    peer.send(FRAME.PING, FLAG.ACK, 0, Buffer.from('unasked!'));
    peer.send(FRAME.PING, 0, 0, Buffer.from('reviewer'));
    const ack = await peer.waitFor((f) => f.type === FRAME.PING, 'PING ACK');
    assert.equal(ack.flags, FLAG.ACK);
    assert.deepEqual(ack.payload, Buffer.from('reviewer'));
    await peer.barrier();
    assert.equal(peer.framesOf(FRAME.PING).length, 2, 'one ACK per PING, none for the ACK');
    assertOk(await call(client), 'after the pings');
  });

  it('ignores DATA, HEADERS, WINDOW_UPDATE and RST_STREAM for closed and unknown streams', async () => {
    const server = await rawServer((peer, f) => {
      if (!isRequestEnd(f)) return;
      if (f.streamId === 3) {
        // Stream 1 is closed: late frames for it, and for streams never opened.
        peer.send(FRAME.DATA, FLAG.END_STREAM, 1, Buffer.alloc(50));
        peer.send(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, OK_TRAILERS);
        peer.send(FRAME.WINDOW_UPDATE, 0, 1, uint32(1000));
        peer.send(FRAME.RST_STREAM, 0, 1, uint32(8));
        peer.send(FRAME.WINDOW_UPDATE, 0, 99, uint32(1000));
        peer.send(FRAME.RST_STREAM, 0, 97, uint32(8));
      }
      answerOk(peer, f.streamId);
    });
    const client = newClient(server.origin);
    assertOk(await call(client), 'stream 1');
    const second = await call(client);
    assertOk(second, 'stream 3');
    assertOk(await call(client), 'stream 5');
    assert.equal(server.peers.length, 1, 'the connection survived');
    await sleep(20);
    assert.equal(second.calls, 1);
  });

  it('keeps the HPACK table in step with the trailers of a stream it cancelled', async () => {
    const server = await rawServer((peer, f) => {
      if (f.type === FRAME.DATA && f.streamId === 1 && f.flags & FLAG.END_STREAM) {
        // Headers at once (so the timeout only cancels the stream), adding `x-first` at index 62.
        peer.send(
          FRAME.HEADERS,
          FLAG.END_HEADERS,
          1,
          Buffer.concat([RESPONSE_HEADERS, indexedLiteral('x-first', '1')]),
        );
      }
      if (f.type === FRAME.RST_STREAM && f.streamId === 1) {
        // Trailers of the cancelled stream: `grpc-status: 0` becomes index 62, `x-first` 63.
        peer.send(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, indexedLiteral('grpc-status', '0'));
      }
      if (isRequestEnd(f) && f.streamId === 3) {
        peer.send(
          FRAME.HEADERS,
          FLAG.END_HEADERS,
          3,
          Buffer.concat([RESPONSE_HEADERS, Buffer.from([0x80 | 63])]),
        );
        peer.send(FRAME.DATA, 0, 3, Buffer.alloc(5));
        peer.send(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 3, Buffer.from([0x80 | 62]));
      }
    });
    const client = newClient(server.origin);
    const first = await call(client, grpcRequest(16), 100);
    assert.equal(first.error?.code, 4, 'DEADLINE_EXCEEDED');
    const peer = server.peers[0] as Peer;
    await peer.waitFor((f) => f.type === FRAME.RST_STREAM && f.streamId === 1, 'RST_STREAM for stream 1');
    await peer.barrier();
    const second = await call(client);
    assertOk(second, 'the call after the cancelled one');
    assert.equal(server.peers.length, 1);
  });

  it('fails the connection once, at once, on bytes that are not HTTP/2 frames', async () => {
    const server = await rawServer((peer, f) => {
      if (isRequestEnd(f)) peer.socket.write('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
    const client = newClient(server.origin);
    const outcome = await call(client, grpcRequest(16), 2000);
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    assert.ok(outcome.ms < 1000, `failed in ${outcome.ms} ms`);
    const peer = server.peers[0] as Peer;
    await within(peer.whenClosed, 'the connection closed');
    const goaway = peer.framesOf(FRAME.GOAWAY)[0];
    assert.ok(goaway, 'a GOAWAY before closing');
    assert.equal(goaway.payload.readUInt32BE(4), 0x6, 'FRAME_SIZE_ERROR');
    await sleep(20);
    assert.equal(outcome.calls, 1);
  });

  it('fails the connection with PROTOCOL_ERROR on a header block interrupted by another frame', async () => {
    const server = await rawServer((peer, f) => {
      if (!isRequestEnd(f)) return;
      peer.send(FRAME.HEADERS, 0, f.streamId, RESPONSE_HEADERS.subarray(0, 1)); // no END_HEADERS
      peer.send(FRAME.PING, 0, 0, Buffer.alloc(8));
    });
    const client = newClient(server.origin);
    const outcome = await call(client);
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    const peer = server.peers[0] as Peer;
    await within(peer.whenClosed, 'the connection closed');
    assert.equal(peer.framesOf(FRAME.GOAWAY)[0]?.payload.readUInt32BE(4), 0x1);
    assert.equal(peer.framesOf(FRAME.PING).length, 0, 'the PING inside the block is not answered');
  });

  it('a connection WINDOW_UPDATE past 2^31-1 is a FLOW_CONTROL_ERROR; the call fails once', async () => {
    const server = await rawServer((peer, f) => {
      if (isRequestEnd(f)) peer.send(FRAME.WINDOW_UPDATE, 0, 0, uint32(2 ** 31 - 1));
    });
    const client = newClient(server.origin);
    const outcome = await call(client);
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    const peer = server.peers[0] as Peer;
    await within(peer.whenClosed, 'the connection closed');
    assert.equal(peer.framesOf(FRAME.GOAWAY)[0]?.payload.readUInt32BE(4), 0x3);
    await sleep(20);
    assert.equal(outcome.calls, 1);
  });

  // ---------------------------------------------------------------- flow control

  it('a 1 MiB request within the windows: connection window exhausted, SETTINGS lowering the stream window mid-request', async () => {
    const big = grpcRequest(1024 * 1024);
    let lowered = false;
    let unreturned = 0;
    const server = await rawServer(
      (peer, f) => {
        if (f.type === FRAME.DATA && f.payload.length > 0) {
          // The stream's credit is given back at once; the connection's only once used up, so
          // that both windows bind in turn.
          if (!(f.flags & FLAG.END_STREAM))
            peer.send(FRAME.WINDOW_UPDATE, 0, f.streamId, uint32(f.payload.length));
          unreturned += f.payload.length;
          if (unreturned >= 65_535) {
            peer.send(FRAME.WINDOW_UPDATE, 0, 0, uint32(unreturned));
            unreturned = 0;
          }
          if (f.streamId === 3 && !lowered && peer.body(3).length > 300_000) {
            lowered = true;
            peer.send(FRAME.SETTINGS, 0, 0, settingsPayload([SETTING.INITIAL_WINDOW_SIZE, 1000])); // -199000 on every stream
          }
        }
        if (f.type === FRAME.SETTINGS && f.flags & FLAG.ACK && lowered && peer.streamWindow(3) < 8192) {
          // The stream's credit, likely negative now, back to 8 KiB: from here the stream binds.
          peer.send(FRAME.WINDOW_UPDATE, 0, 3, uint32(8192 - peer.streamWindow(3)));
        }
        if (isRequestEnd(f)) answerOk(peer, f.streamId);
      },
      (peer) =>
        peer.send(
          FRAME.SETTINGS,
          0,
          0,
          settingsPayload([SETTING.INITIAL_WINDOW_SIZE, 200_000], [SETTING.MAX_FRAME_SIZE, 32_768]),
        ),
    );
    const client = newClient(server.origin);
    assertOk(await call(client), 'warm-up'); // our SETTINGS are acknowledged from here on
    const outcome = await call(client, big, 3000);
    assertOk(outcome, 'the 1 MiB call');
    const peer = server.peers[0] as Peer;
    assert.ok(lowered);
    assert.deepEqual(peer.violations, []);
    assert.ok(peer.body(3).equals(big), 'the request arrived whole and in order');
    assert.ok(
      peer.framesOf(FRAME.DATA, 3).some((f) => f.payload.length > 16_384),
      'frames up to the MAX_FRAME_SIZE granted',
    );
  });

  it('sends 2 MiB to node:http2 with 16 KiB stream windows and 1 MiB frames', async () => {
    const server = await h2Server(answerGrpcOk, {
      settings: { initialWindowSize: 16_384, maxFrameSize: 1 << 20 },
    });
    const client = newClient(server.origin);
    const big = grpcRequest(2 * 1024 * 1024);
    const [a, b] = await Promise.all([call(client, big, 4000), call(client, grpcRequest(100), 4000)]);
    assertOk(a, 'the 2 MiB call');
    assertOk(b, 'a small call beside it');
    assert.equal(server.bodies.length, 2);
    assert.ok(server.bodies.some((body) => body.equals(big)));
    assert.equal(server.sessions.length, 1);
  });

  it('a call timing out while flow control holds its data: DEADLINE_EXCEEDED once, RST_STREAM CANCEL, no DATA after', async () => {
    let cancelled: (() => void) | undefined;
    const server = await rawServer(
      (peer, f) => {
        if (f.type === FRAME.RST_STREAM) {
          // The windows open after the cancel: nothing more may be sent on it.
          peer.send(FRAME.WINDOW_UPDATE, 0, 0, uint32(1 << 20));
          peer.send(FRAME.WINDOW_UPDATE, 0, f.streamId, uint32(1 << 20));
          cancelled?.();
        }
      },
      (peer) => peer.send(FRAME.SETTINGS, 0, 0, settingsPayload([SETTING.INITIAL_WINDOW_SIZE, 0])),
    );
    const client = newClient(server.origin);
    const wasCancelled = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const outcome = await call(client, grpcRequest(100_000), 150);
    assert.equal(outcome.error?.code, 4, outcome.error?.message);
    assert.ok(outcome.ms >= 140 && outcome.ms < 600, `${outcome.ms} ms`);
    await within(wasCancelled, 'RST_STREAM');
    const peer = server.peers[0] as Peer;
    const rst = peer.framesOf(FRAME.RST_STREAM, 1)[0];
    assert.equal(rst?.payload.readUInt32BE(0), 0x8, 'CANCEL');
    await within(peer.whenClosed, 'the connection closed'); // a deadline without headers retires the connection: it closes
    assert.deepEqual(peer.violations, []);
    assert.ok(peer.body(1).length <= 65_535);
    await sleep(20);
    assert.equal(outcome.calls, 1);
  });

  it('a complete response before the whole request was sent: success, the rest not sent, connection reused', async () => {
    const server = await rawServer((peer, f) => {
      if (f.type === FRAME.HEADERS && f.streamId === 1) {
        // Trailers-Only at once; then windows that would let the rest of the request go.
        peer.send(
          FRAME.HEADERS,
          FLAG.END_HEADERS | FLAG.END_STREAM,
          1,
          encodeHeaders([
            [':status', '200'],
            ['content-type', 'application/grpc'],
            ['grpc-status', '0'],
          ]),
        );
        peer.send(FRAME.WINDOW_UPDATE, 0, 0, uint32(1 << 20));
        peer.send(FRAME.WINDOW_UPDATE, 0, 1, uint32(1 << 20));
      } else if (isRequestEnd(f)) answerOk(peer, f.streamId);
    });
    const client = newClient(server.origin);
    const outcome = await call(client, grpcRequest(300_000));
    assertOk(outcome);
    const peer = server.peers[0] as Peer;
    await peer.barrier();
    assert.ok(peer.body(1).length < 300_005, 'the request was cut short');
    assert.equal(peer.framesOf(FRAME.RST_STREAM, 1).length, 1, 'with one RST_STREAM');
    assertOk(await call(client), 'the next call on the same connection');
    await peer.barrier();
    assert.deepEqual(peer.violations, []);
    assert.equal(server.peers.length, 1);
  });

  it('onSent: not while flow control holds the request, once when all of it is written, before the answer', async () => {
    const events: string[] = [];
    const server = await rawServer(
      (peer, f) => {
        if (isRequestEnd(f)) setTimeout(() => answerOk(peer, f.streamId), 30);
      },
      (peer) => peer.send(FRAME.SETTINGS, 0, 0, settingsPayload([SETTING.INITIAL_WINDOW_SIZE, 0])),
    );
    const client = newClient(server.origin);
    const pending = call(client, grpcRequest(100_000), 2000, () => events.push('sent'));
    await sleep(100);
    assert.equal(events.length, 0, 'nothing reported while the window holds 35 KB back');
    const peer = server.peers[0] as Peer;
    peer.send(FRAME.WINDOW_UPDATE, 0, 0, uint32(1 << 20));
    peer.send(FRAME.WINDOW_UPDATE, 0, 1, uint32(1 << 20));
    const outcome = await pending;
    events.push('answer');
    assertOk(outcome);
    assert.deepEqual(events, ['sent', 'answer']);
    assert.equal(peer.body(1).length, 100_005);
  });

  it('onSent waits for the answer on a connection idle for longer than it is trusted', async () => {
    const server = await rawServer((peer, f) => {
      if (isRequestEnd(f)) setTimeout(() => answerOk(peer, f.streamId), 20);
    });
    const client = newClient(server.origin);
    assertOk(await call(client));
    // As after a freeze: the connection last answered a minute ago.
    const internals = client as unknown as { connection: { answeredAt: number } };
    internals.connection.answeredAt = Date.now() - 60_000;
    let sent = 0;
    assertOk(await call(client, grpcRequest(16), 1000, () => sent++));
    assert.equal(sent, 0);
  });

  // ---------------------------------------------------------------- connections, retries, close

  it('GOAWAY: streams up to last-stream-id finish on the old connection, later ones are retried once on a new one', async () => {
    const server = await rawServer((peer, f) => {
      if (!isRequestEnd(f)) return;
      if (server.peers.indexOf(peer) > 0 || f.streamId === 1) {
        answerOk(peer, f.streamId);
        return;
      }
      if (peer.framesOf(FRAME.DATA).filter((d) => d.flags & FLAG.END_STREAM).length === 3) {
        peer.send(FRAME.GOAWAY, 0, 0, Buffer.concat([uint32(3), uint32(0)]));
        answerOk(peer, 3);
      }
    });
    const client = newClient(server.origin);
    assertOk(await call(client), 'stream 1');
    const [a, b] = await Promise.all([call(client), call(client)]);
    assertOk(a, 'stream 3');
    assertOk(b, 'stream 5, retried');
    assert.equal(server.peers.length, 2);
    const [first, second] = server.peers as [Peer, Peer];
    assert.equal(second.framesOf(FRAME.HEADERS).length, 1, 'one request on the new connection');
    await within(first.whenClosed, 'the old connection closed'); // closed once stream 3 was done
    assertOk(await call(client), 'the next call, on the new connection');
    assert.equal(server.peers.length, 2);
    await sleep(20);
    assert.deepEqual([a.calls, b.calls], [1, 1]);
  });

  it('a stale connection costs one retry at most', async () => {
    let requests = 0;
    const server = await rawServer((peer, f) => {
      if (f.type !== FRAME.HEADERS) return;
      requests++;
      if (requests === 1) answerOk(peer, f.streamId);
      else peer.socket.destroy(); // every later request: the connection dies under it
    });
    const client = newClient(server.origin);
    assertOk(await call(client));
    const outcome = await call(client, grpcRequest(16), 2000);
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    assert.ok(outcome.ms < 1000, `${outcome.ms} ms`);
    assert.equal(requests, 3, 'the first request, the stale attempt, one retry');
    assert.equal(server.peers.length, 2, 'the stale connection and the retry’s');
    await sleep(20);
    assert.equal(outcome.calls, 1);
  });

  it('a refused connection: UNAVAILABLE once, at once, no timer or socket left', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const resources = () =>
      process
        .getActiveResourcesInfo()
        .filter((r) => r === 'Timeout' || r === 'TCPSocketWrap')
        .sort();
    const before = resources();
    const client = newClient(`http://127.0.0.1:${port}`);
    const outcome = await call(client, grpcRequest(16), 2000);
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    assert.match(String(outcome.error?.message), /ECONNREFUSED/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(resources(), before);
    await sleep(20);
    assert.equal(outcome.calls, 1);
  });

  it('close() racing a call: the call finishes within the grace, close resolves once closed, later calls fail', async () => {
    const server = await h2Server((stream) => setTimeout(() => answerGrpcOk(stream), 50));
    const client = newClient(server.origin);
    const events: string[] = [];
    const pending = call(client).then((outcome) => {
      events.push('call');
      return outcome;
    });
    const closed = client.close(1000).then(() => events.push('closed'));
    const outcome = await pending;
    assertOk(outcome);
    await within(closed, 'close()');
    assert.deepEqual(events, ['call', 'closed']);
    const later = await call(client);
    assert.equal(later.error?.code, 1, 'CANCELLED');
    await sleep(20);
    assert.deepEqual([outcome.calls, later.calls], [1, 1]);
  });

  it('close() with a grace shorter than the answer: the call fails once, close resolves after the grace', async () => {
    const server = await h2Server((stream) => setTimeout(() => answerGrpcOk(stream), 400));
    const client = newClient(server.origin);
    const pending = call(client);
    await sleep(20);
    const started = performance.now();
    await within(client.close(100), 'close()');
    const closeMs = performance.now() - started;
    const outcome = await pending;
    assert.ok(outcome.error, 'failed');
    assert.ok(closeMs >= 90 && closeMs < 350, `close took ${closeMs} ms`);
    await sleep(20);
    assert.equal(outcome.calls, 1);
  });

  it('200 calls at once on one connection, each called back once', async () => {
    const server = await h2Server(answerGrpcOk);
    const client = newClient(server.origin);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => call(client, grpcRequest(i * 50))),
    );
    for (const outcome of outcomes) assertOk(outcome);
    assert.equal(server.sessions.length, 1);
    assert.equal(server.bodies.length, 200);
    await sleep(20);
    assert.ok(outcomes.every((o) => o.calls === 1));
  });

  it('sends a header block larger than a frame as HEADERS + CONTINUATION', async () => {
    const server = await h2Server(answerGrpcOk, { settings: { maxHeaderListSize: 200_000 } });
    const client = newClient(server.origin, { 'x-big': 'v'.repeat(40_000) });
    assertOk(await call(client));
    assertOk(await call(client));
  });

  it('neither an idle connection nor a released call keeps the process alive; a call in flight does', async () => {
    let requests = 0;
    const server = await rawServer((peer, f) => {
      if (!isRequestEnd(f)) return;
      requests++;
      // The first answer comes late: only the call's deadline timer keeps the child alive for it.
      if (requests === 1) setTimeout(() => answerOk(peer, f.streamId), 200);
      // The second is never answered.
    });
    const clientUrl = new URL('../../../../src/export/otlp/plain-grpc-client.js', import.meta.url).href;
    const script = `
      const { PlainGrpcClient } = await import(${JSON.stringify(clientUrl)});
      const client = new PlainGrpcClient({ origin: ${JSON.stringify(server.origin)}, metadata: {}, userAgent: 'child' });
      const request = Buffer.alloc(8); request.writeUInt32BE(3, 1);
      const error = await new Promise((resolve) => client.unaryCall('/a', request, 5000, resolve));
      process.stdout.write('first ' + (error ? error.message : 'ok'));
      client.unaryCall('/b', request, 20000, () => process.stdout.write(' second called back'));
      client.releaseInFlight();`;
    const started = performance.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 3000 });
    assert.equal(stdout, 'first ok');
    assert.ok(performance.now() - started < 2500);
    for (let waited = 0; requests < 2 && waited < 500; waited += 5) await sleep(5);
    assert.equal(requests, 2, 'the second call was sent before the child exited');
  });

  // ---------------------------------------------------------------- limits: concurrency, windows, stream IDs, listeners

  it('queues calls beyond the collector’s SETTINGS_MAX_CONCURRENT_STREAMS, as node:http2 does', async () => {
    const server = await h2Server((stream) => setTimeout(() => answerGrpcOk(stream), 30), {
      settings: { maxConcurrentStreams: 2 },
    });
    const outcomesOf = async (client: PlainGrpcClient | GrpcHttp2Client) => {
      assertOk(await call(client), 'warm-up'); // the server's SETTINGS are known from here on
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => call(client)));
      return outcomes.map((o) => o.error?.message ?? 'ok');
    };
    const reference = new GrpcHttp2Client({ origin: server.origin, metadata: {}, userAgent: 'review' });
    cleanups.push(() => reference.close(100));
    assert.deepEqual(await outcomesOf(reference), Array(6).fill('ok'), 'node:http2, the reference');
    assert.deepEqual(await outcomesOf(newClient(server.origin)), Array(6).fill('ok'), 'PlainGrpcClient');
  });

  it('never answers a RST_STREAM with a RST_STREAM (RFC 9113 §5.4.2)', async () => {
    const server = await rawServer((peer, f) => {
      if (f.type === FRAME.HEADERS && f.streamId === 1) peer.send(FRAME.RST_STREAM, 0, 1, uint32(0x7)); // REFUSED_STREAM
    });
    const client = newClient(server.origin);
    // Larger than the connection window: the client still has data to send when the reset comes.
    const outcome = await call(client, grpcRequest(100_000));
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    const peer = server.peers[0] as Peer;
    await peer.barrier(); // anything sent in reply to the reset is in by now
    assert.deepEqual(
      peer.framesOf(FRAME.RST_STREAM, 1).map((f) => f.payload.readUInt32BE(0)),
      [],
      'RST_STREAM sent back on the reset stream',
    );
  });

  it('a stream WINDOW_UPDATE past 2^31-1 resets the stream with FLOW_CONTROL_ERROR (RFC 9113 §6.9.1)', async () => {
    const server = await rawServer((peer, f) => {
      if (isRequestEnd(f)) peer.send(FRAME.WINDOW_UPDATE, 0, f.streamId, uint32(2 ** 31 - 1));
    });
    const client = newClient(server.origin);
    const outcome = await call(client);
    assert.equal(outcome.error?.code, 14, outcome.error?.message);
    const peer = server.peers[0] as Peer;
    await peer.barrier();
    assert.deepEqual(
      peer.framesOf(FRAME.RST_STREAM, 1).map((f) => f.payload.readUInt32BE(0)),
      [0x3],
      'the collector is told the stream is over, else it keeps it open',
    );
  });

  it('many calls timing out on one connection add no socket listener per call', async () => {
    const silent = await silentTcpServer();
    cleanups.push(() => silent.close());
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    const client = newClient(`http://127.0.0.1:${silent.port}`);
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => call(client, grpcRequest(16), 100)));
    assert.ok(outcomes.every((o) => o.error?.code === 4));
    await sleep(20);
    assert.deepEqual(warnings, []);
  });

  it('a connection out of stream IDs is replaced without killing the calls still on it', async () => {
    const LAST = 2 ** 31 - 3;
    const server = await rawServer((peer, f) => {
      if (f.type === FRAME.HEADERS && f.streamId === LAST) {
        // The last stream ID it may use: headers now, trailers a little later.
        peer.send(FRAME.HEADERS, FLAG.END_HEADERS, LAST, RESPONSE_HEADERS);
        peer.send(FRAME.DATA, 0, LAST, Buffer.alloc(5));
        setTimeout(
          () => peer.send(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, LAST, OK_TRAILERS),
          100,
        );
      } else if (isRequestEnd(f) && f.streamId !== LAST) answerOk(peer, f.streamId);
    });
    const client = newClient(server.origin);
    assertOk(await call(client), 'stream 1');
    // A billion calls later, set directly: the next stream takes the last odd ID but one.
    const internals = client as unknown as { connection: { nextStreamId: number } };
    internals.connection.nextStreamId = LAST;
    const last = call(client);
    await (server.peers[0] as Peer).waitFor(
      (f) => f.type === FRAME.HEADERS && f.streamId === LAST,
      'HEADERS',
    );
    await (server.peers[0] as Peer).barrier(); // its headers are in: a failure now is not retried
    const next = await call(client); // needs a new connection
    assertOk(next, 'the call on the new connection');
    assertOk(await last, 'the call in flight on the exhausted connection');
    assert.equal(server.peers.length, 2);
  });
});
