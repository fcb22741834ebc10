/**
 * gRPC unary calls for OTLP export on HTTP/2 written straight on a `node:net` socket, for cleartext
 * `http:` collectors (the collector extension on localhost). `node:http2` costs ~10-13 ms to load
 * inside a cold start (measured on Node 24 with `net` and `http` already loaded) and its stream
 * machinery ~4x the CPU of this client per export, after a freeze, when every step runs in cold
 * caches. `https:` collectors stay with `node:http2` (`GrpcHttp2Client`).
 *
 * Wire format: HTTP/2 with prior knowledge (RFC 9113 §3.3), header blocks per HPACK (RFC 7541,
 * `hpack.ts`), gRPC per "gRPC over HTTP2" (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 * What a unary client needs and no more: one connection, reused, streams multiplexed on it, flow
 * control both ways, SETTINGS, PING, GOAWAY, RST_STREAM and CONTINUATION handled; no push, no
 * priorities, no compression.
 */
import type { Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
import {
  CallDeadlines,
  closed,
  deadlineExceeded,
  destroyWithin,
  failedBeforeResponse,
} from './grpc-calls.js';
import type { GrpcHttp2ClientOptions, UnaryCallback } from './grpc-http2-client.js';
import { asCallError, callStatus, formatGrpcTimeout, GrpcCallError, GrpcStatus } from './grpc-status.js';
import { encodeHeaders, HpackDecoder, HpackError } from './hpack.js';
import { cleartextAddress, isTrustedConnection, MAX_RESPONSE_BYTES, withBuiltin } from './http-request.js';

type NetModule = typeof import('node:net');

/** Frame types (RFC 9113 §6). */
const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 §6); ACK shares its bit with END_STREAM on the frames that carry it. */
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** SETTINGS parameters (RFC 9113 §6.5.2). */
const SETTING = {
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
} as const;

/** Error codes (RFC 9113 §7). */
const ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  FLOW_CONTROL_ERROR: 0x3,
  FRAME_SIZE_ERROR: 0x6,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
} as const;

const FRAME_HEADER_BYTES = 9;
const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** Flow-control windows start here (RFC 9113 §6.9.2) and may not exceed {@link MAX_WINDOW}. */
const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
/** The largest frame either side may send until told otherwise; this client never raises its own. */
const DEFAULT_MAX_FRAME = 16_384;
const MAX_FRAME_LIMIT = 2 ** 24 - 1;
/** Client stream IDs are odd and may not go past 2^31-1: a connection is replaced before that. */
const LAST_STREAM_ID = 2 ** 31 - 1;
/** A header block larger than this (a misbehaving peer) fails the connection. */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** How long a connection closed politely (GOAWAY, FIN) waits for the peer to close its side. */
const CLOSE_GRACE_MILLIS = 1000;
/** Received DATA bytes after which the connection's receive window is topped up again. */
const WINDOW_TOP_UP_BYTES = 2 ** 30;

/**
 * The client's opening: the preface, SETTINGS (no push; each stream may receive up to 2^31-1
 * bytes), and a WINDOW_UPDATE that opens the connection's receive window as far: responses are a
 * few bytes, so the window never needs managing beyond the top-up in `onData`.
 */
const OPENING = Buffer.concat([
  Buffer.from(PREFACE, 'latin1'),
  frame(
    FRAME.SETTINGS,
    0,
    0,
    settingsPayload([SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, MAX_WINDOW]),
  ),
  frame(FRAME.WINDOW_UPDATE, 0, 0, uint32(MAX_WINDOW - DEFAULT_WINDOW)),
]);
const SETTINGS_ACK = frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0));

/** How a stream ended: its response, or why there is none. */
type StreamEnd =
  | { readonly kind: 'response'; readonly status: GrpcCallError | undefined; readonly body: Buffer }
  | { readonly kind: 'failed'; readonly error: Error; readonly beforeResponse: boolean };

/** One call's stream on a connection. */
interface Stream {
  /** 0 while it waits for the peer's concurrency limit (see `Connection.open`). */
  id: number;
  readonly headerBlock: Buffer;
  /** Bytes the peer still accepts on this stream (may go negative after a SETTINGS change). */
  sendWindow: number;
  /** The request's bytes not sent yet (flow control), or `undefined` once all are. */
  unsent: Buffer | undefined;
  /** Response headers, then trailers, by name (first value). */
  headers: Map<string, string> | undefined;
  trailers: Map<string, string> | undefined;
  readonly body: Buffer[];
  bodyBytes: number;
  readonly onEnd: (end: StreamEnd) => void;
  /** Called once the whole request is in the kernel. */
  readonly onWritten: () => void;
}

/** A header block arriving in HEADERS then CONTINUATION frames. */
interface PendingBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly fragments: Buffer[];
  bytes: number;
}

/** One HTTP/2 connection to the collector. */
class Connection {
  readonly streams = new Map<number, Stream>();
  /** Set when it must take no new stream: GOAWAY, an error, a deadline, `close`. */
  retired = false;
  /** When it last delivered response headers; undefined while it never has. */
  answeredAt: number | undefined;
  private nextStreamId = 1;
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  private receivedSinceTopUp = 0;
  private readonly decoder = new HpackDecoder();
  private input: Buffer | undefined;
  private block: PendingBlock | undefined;
  private dead = false;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS: streams past it wait in {@link waiting}. */
  private peerMaxStreams = Number.POSITIVE_INFINITY;
  private readonly waiting: Stream[] = [];

  constructor(
    readonly socket: Socket,
    /** Called once when it closes or fails: the client stops using it. */
    private readonly onDead: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
    socket.write(OPENING);
  }

  /** Whether a new stream may be opened on it. */
  get usable(): boolean {
    return !this.retired && !this.dead && this.nextStreamId + 2 * this.waiting.length < LAST_STREAM_ID;
  }

  /**
   * Opens a stream and writes as much of the request as flow control allows; past the peer's
   * concurrency limit, the stream waits for one to end first (as node:http2 queues them).
   */
  open(stream: Omit<Stream, 'id' | 'sendWindow'>): Stream {
    const opened: Stream = { ...stream, id: 0, sendWindow: 0 };
    if (this.streams.size >= this.peerMaxStreams) this.waiting.push(opened);
    else this.start(opened);
    return opened;
  }

  /** Cancels a stream (RST_STREAM CANCEL, if it started); its end is not reported. */
  cancel(stream: Stream): void {
    const waiting = this.waiting.indexOf(stream);
    if (waiting >= 0) {
      this.waiting.splice(waiting, 1);
    } else {
      if (this.streams.get(stream.id) !== stream) return;
      this.streams.delete(stream.id);
      if (!this.dead) this.socket.write(frame(FRAME.RST_STREAM, 0, stream.id, uint32(ERROR.CANCEL)));
      this.startWaiting();
    }
    this.closeIfDone();
  }

  /** Takes no new stream; closes once its streams ended, or after `graceMillis` at the latest. */
  retire(graceMillis: number): void {
    this.retired = true;
    if (!this.closeIfDone()) destroyWithin(this.socket, graceMillis);
  }

  /** Fails the connection and every stream on it (once). */
  fail(error: Error, code?: number): void {
    if (this.dead) return;
    this.dead = true;
    this.retired = true;
    if (code !== undefined && !this.socket.destroyed) {
      this.socket.end(frame(FRAME.GOAWAY, 0, 0, Buffer.concat([uint32(0), uint32(code)])));
    }
    this.socket.destroy();
    const streams = [...this.streams.values(), ...this.waiting];
    this.streams.clear();
    this.waiting.length = 0;
    this.onDead(this);
    for (const stream of streams) {
      stream.onEnd({ kind: 'failed', error, beforeResponse: stream.headers === undefined });
    }
  }

  /** Closes a retired connection with no stream left; whether it did. */
  private closeIfDone(): boolean {
    if (!this.retired || this.streams.size > 0 || this.waiting.length > 0 || this.dead) return this.dead;
    this.dead = true;
    this.onDead(this);
    // A polite close: GOAWAY, then FIN; the socket is destroyed when the peer closes too.
    this.socket.end(frame(FRAME.GOAWAY, 0, 0, Buffer.concat([uint32(0), uint32(ERROR.NO_ERROR)])));
    destroyWithin(this.socket, CLOSE_GRACE_MILLIS);
    return true;
  }

  /** Gives `stream` its ID and writes its headers and as much data as the windows allow. */
  private start(stream: Stream): void {
    stream.id = this.nextStreamId;
    this.nextStreamId += 2;
    stream.sendWindow = this.peerInitialWindow;
    this.streams.set(stream.id, stream);
    const frames = headerFrames(stream.id, stream.headerBlock, this.peerMaxFrame);
    this.takeData(stream, frames);
    this.write(frames, stream);
  }

  /** Starts waiting streams while the peer's concurrency limit allows. */
  private startWaiting(): void {
    while (!this.dead && this.waiting.length > 0 && this.streams.size < this.peerMaxStreams) {
      this.start(this.waiting.shift() as Stream);
    }
  }

  /** Appends to `frames` the DATA frames the windows allow for `stream` (END_STREAM on the last). */
  private takeData(stream: Stream, frames: Buffer[]): void {
    const unsent = stream.unsent;
    if (unsent === undefined) return;
    if (unsent.length === 0) {
      frames.push(frameHeader(FRAME.DATA, FLAG.END_STREAM, stream.id, 0));
      stream.unsent = undefined;
      return;
    }
    let offset = 0;
    while (offset < unsent.length) {
      const size = Math.min(unsent.length - offset, stream.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (size <= 0) break;
      const last = offset + size === unsent.length;
      frames.push(frameHeader(FRAME.DATA, last ? FLAG.END_STREAM : 0, stream.id, size));
      frames.push(unsent.subarray(offset, offset + size));
      offset += size;
      stream.sendWindow -= size;
      this.sendWindow -= size;
    }
    stream.unsent = offset === unsent.length ? undefined : unsent.subarray(offset);
  }

  /** Writes `frames` at once; tells `stream` (if all its request is out) once the kernel has them. */
  private write(frames: Buffer[], stream?: Stream): void {
    if (frames.length === 0 || this.dead) return;
    const bytes = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
    const complete = stream !== undefined && stream.unsent === undefined;
    this.socket.write(bytes, (error) => {
      if (!error && complete) stream.onWritten();
    });
    // The usual case on localhost: the kernel took it all inside write(); see PlainHttpClient.post.
    const { socket } = this;
    if (complete && socket.writableLength === 0 && !socket.errored && !socket.destroyed) stream.onWritten();
  }

  /** Sends what flow control held back, now that a window opened. */
  private resume(): void {
    for (const stream of this.streams.values()) {
      if (stream.unsent === undefined) continue;
      const frames: Buffer[] = [];
      this.takeData(stream, frames);
      this.write(frames, stream);
    }
  }

  private onData(chunk: Buffer): void {
    let input = this.input === undefined ? chunk : Buffer.concat([this.input, chunk]);
    try {
      while (!this.dead && input.length >= FRAME_HEADER_BYTES) {
        const length = input.readUIntBE(0, 3);
        if (length > DEFAULT_MAX_FRAME) {
          throw new ProtocolError(`frame of ${length} bytes`, ERROR.FRAME_SIZE_ERROR);
        }
        if (input.length < FRAME_HEADER_BYTES + length) break;
        const type = input[3] as number;
        const flags = input[4] as number;
        const streamId = input.readUInt32BE(5) & 0x7fff_ffff;
        const payload = input.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
        input = input.subarray(FRAME_HEADER_BYTES + length);
        this.onFrame(type, flags, streamId, payload);
      }
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.fail(new Error(`HTTP/2 protocol error from the collector: ${error.message}`), error.code);
      } else if (error instanceof HpackError) {
        this.fail(new Error(`HTTP/2 header block error: ${error.message}`), ERROR.COMPRESSION_ERROR);
      } else {
        this.fail(error as Error, ERROR.PROTOCOL_ERROR);
      }
      return;
    }
    this.input = input.length === 0 ? undefined : input;
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.block !== undefined && type !== FRAME.CONTINUATION) {
      throw new ProtocolError('a header block interrupted', ERROR.PROTOCOL_ERROR);
    }
    switch (type) {
      case FRAME.DATA:
        this.onDataFrame(flags, streamId, payload);
        return;
      case FRAME.HEADERS:
        this.onHeaders(flags, streamId, payload);
        return;
      case FRAME.CONTINUATION:
        this.onContinuation(flags, streamId, payload);
        return;
      case FRAME.RST_STREAM:
        if (payload.length !== 4) throw new ProtocolError('RST_STREAM size', ERROR.FRAME_SIZE_ERROR);
        this.endStream(
          streamId,
          {
            kind: 'failed',
            error: new Error(`stream reset with HTTP/2 error code ${payload.readUInt32BE(0)}`),
            beforeResponse: this.streams.get(streamId)?.headers === undefined,
          },
          null, // a reset is never answered with a reset (RFC 9113 §5.4.2)
        );
        return;
      case FRAME.SETTINGS:
        this.onSettings(flags, streamId, payload);
        return;
      case FRAME.PING:
        if (payload.length !== 8) throw new ProtocolError('PING size', ERROR.FRAME_SIZE_ERROR);
        if ((flags & FLAG.ACK) === 0) this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, payload));
        return;
      case FRAME.GOAWAY:
        this.onGoaway(payload);
        return;
      case FRAME.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      case FRAME.PUSH_PROMISE:
        throw new ProtocolError('PUSH_PROMISE, which this client disabled', ERROR.PROTOCOL_ERROR);
      default:
        return; // PRIORITY and unknown types are ignored (RFC 9113 §4.1, §5.5)
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ProtocolError('DATA on stream 0', ERROR.PROTOCOL_ERROR);
    // The whole frame counts against the window, padding included (RFC 9113 §6.9.1).
    this.receivedSinceTopUp += payload.length;
    if (this.receivedSinceTopUp >= WINDOW_TOP_UP_BYTES) {
      this.socket.write(frame(FRAME.WINDOW_UPDATE, 0, 0, uint32(this.receivedSinceTopUp)));
      this.receivedSinceTopUp = 0;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return; // cancelled by us: its data is dropped
    const data = unpad(flags, payload);
    if (stream.bodyBytes + data.length <= MAX_RESPONSE_BYTES) {
      stream.body.push(data);
      stream.bodyBytes += data.length;
    }
    if ((flags & FLAG.END_STREAM) !== 0) this.complete(stream);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ProtocolError('HEADERS on stream 0', ERROR.PROTOCOL_ERROR);
    let fragment = unpad(flags, payload);
    if ((flags & FLAG.PRIORITY) !== 0) {
      if (fragment.length < 5) throw new ProtocolError('HEADERS priority', ERROR.FRAME_SIZE_ERROR);
      fragment = fragment.subarray(5);
    }
    this.block = {
      streamId,
      endStream: (flags & FLAG.END_STREAM) !== 0,
      fragments: [fragment],
      bytes: fragment.length,
    };
    if ((flags & FLAG.END_HEADERS) !== 0) this.onHeaderBlock();
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.block;
    if (block === undefined || block.streamId !== streamId) {
      throw new ProtocolError('CONTINUATION out of place', ERROR.PROTOCOL_ERROR);
    }
    block.fragments.push(payload);
    block.bytes += payload.length;
    if (block.bytes > MAX_HEADER_BLOCK_BYTES) {
      throw new ProtocolError(`header block over ${MAX_HEADER_BLOCK_BYTES} bytes`, ERROR.PROTOCOL_ERROR);
    }
    if ((flags & FLAG.END_HEADERS) !== 0) this.onHeaderBlock();
  }

  /** A complete header block: decoded whatever its stream (the HPACK table must stay in step). */
  private onHeaderBlock(): void {
    const block = this.block as PendingBlock;
    this.block = undefined;
    const bytes =
      block.fragments.length === 1 ? (block.fragments[0] as Buffer) : Buffer.concat(block.fragments);
    const fields = this.decoder.decode(bytes);
    const stream = this.streams.get(block.streamId);
    if (stream === undefined) return;
    const byName = new Map<string, string>();
    for (const [name, value] of fields) if (!byName.has(name)) byName.set(name, value);
    if (stream.headers === undefined) {
      stream.headers = byName;
      this.answeredAt = Date.now();
    } else {
      stream.trailers = byName;
    }
    if (block.endStream) this.complete(stream);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ProtocolError('SETTINGS on a stream', ERROR.PROTOCOL_ERROR);
    if ((flags & FLAG.ACK) !== 0) return;
    if (payload.length % 6 !== 0) throw new ProtocolError('SETTINGS size', ERROR.FRAME_SIZE_ERROR);
    for (let offset = 0; offset < payload.length; offset += 6) {
      const id = payload.readUInt16BE(offset);
      const value = payload.readUInt32BE(offset + 2);
      if (id === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new ProtocolError('initial window size', ERROR.FLOW_CONTROL_ERROR);
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === SETTING.MAX_CONCURRENT_STREAMS) {
        this.peerMaxStreams = value;
      } else if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > MAX_FRAME_LIMIT) {
          throw new ProtocolError('max frame size', ERROR.PROTOCOL_ERROR);
        }
        this.peerMaxFrame = value;
      }
    }
    this.socket.write(SETTINGS_ACK);
    this.resume();
    this.startWaiting();
  }

  private onGoaway(payload: Buffer): void {
    if (payload.length < 8) throw new ProtocolError('GOAWAY size', ERROR.FRAME_SIZE_ERROR);
    const lastStreamId = payload.readUInt32BE(0) & 0x7fff_ffff;
    this.retired = true;
    this.onDead(this);
    // Streams past the last one the peer processed never reached it, nor did those still waiting:
    // they may be sent again.
    const waiting = this.waiting.splice(0);
    for (const stream of waiting) {
      stream.onEnd({
        kind: 'failed',
        error: new Error('the collector is closing the connection (GOAWAY)'),
        beforeResponse: true,
      });
    }
    for (const stream of [...this.streams.values()]) {
      if (stream.id > lastStreamId) {
        this.endStream(stream.id, {
          kind: 'failed',
          error: new Error(`the collector is closing the connection (GOAWAY ${payload.readUInt32BE(4)})`),
          beforeResponse: true,
        });
      }
    }
    this.closeIfDone();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ProtocolError('WINDOW_UPDATE size', ERROR.FRAME_SIZE_ERROR);
    const increment = payload.readUInt32BE(0) & 0x7fff_ffff;
    if (streamId === 0) {
      if (increment === 0 || this.sendWindow + increment > MAX_WINDOW) {
        throw new ProtocolError('connection window update', ERROR.FLOW_CONTROL_ERROR);
      }
      this.sendWindow += increment;
    } else {
      const stream = this.streams.get(streamId);
      if (stream === undefined) return;
      if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW) {
        this.endStream(
          streamId,
          {
            kind: 'failed',
            error: new Error('invalid stream window update'),
            beforeResponse: stream.headers === undefined,
          },
          increment === 0 ? ERROR.PROTOCOL_ERROR : ERROR.FLOW_CONTROL_ERROR,
        );
        return;
      }
      stream.sendWindow += increment;
    }
    this.resume();
  }

  /** The response is complete: its outcome from `:status` and `grpc-status`. */
  private complete(stream: Stream): void {
    const headers = stream.headers;
    if (headers === undefined) {
      this.endStream(stream.id, {
        kind: 'failed',
        error: new Error('stream ended without response headers'),
        beforeResponse: true,
      });
      return;
    }
    const trailers = stream.trailers;
    const status = callStatus(
      Number(headers.get(':status')),
      (name) => trailers?.get(name) ?? headers.get(name),
      undefined,
    );
    this.endStream(stream.id, { kind: 'response', status, body: Buffer.concat(stream.body) });
  }

  /**
   * Ends a stream and reports it. `reset`: the RST_STREAM code to send, `null` for none; by default
   * NO_ERROR when the response came before the whole request was sent (RFC 9113 §8.1), else none.
   */
  private endStream(streamId: number, end: StreamEnd, reset?: number | null): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.streams.delete(streamId);
    const code = reset === undefined ? (stream.unsent === undefined ? null : ERROR.NO_ERROR) : reset;
    if (code !== null && !this.dead) this.socket.write(frame(FRAME.RST_STREAM, 0, streamId, uint32(code)));
    stream.unsent = undefined;
    stream.onEnd(end);
    this.startWaiting();
    this.closeIfDone();
  }
}

/** A malformed frame from the peer: a connection error with this HTTP/2 code. */
class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Makes gRPC unary calls over one lazily opened, reused HTTP/2 connection, as `GrpcHttp2Client`
 * does on `node:http2` (same calls, same outcomes), for `http:` origins.
 *
 * The socket is unref'd so that an idle connection never keeps the process alive; a call in flight
 * holds a (ref'd) deadline timer, so the process stays alive until the call settles, or until
 * `releaseInFlight`. A connection that closes, fails, receives GOAWAY or leaves a call unanswered
 * past its deadline takes no new calls; the next call opens a new one.
 */
export class PlainGrpcClient {
  private connection: Connection | undefined;
  private closed = false;
  private readonly deadlines = new CallDeadlines();
  /** Where the connection goes. */
  private readonly address: { readonly host: string; readonly port: number };
  /**
   * The request's header block is encoded once, but for `:path` and `grpc-timeout` (the encoding is
   * stateless, so blocks join): the pseudo-headers before `:path`, the regular fields after it, or
   * why the latter cannot be encoded (a metadata value HPACK cannot carry), which each call reports.
   */
  private readonly pseudoFields: Buffer;
  private readonly regularFields: Buffer | Error;

  constructor(options: GrpcHttp2ClientOptions) {
    const url = new URL(options.origin);
    if (url.protocol !== 'http:') throw new Error('PlainGrpcClient takes http: origins only');
    this.address = cleartextAddress(url);
    this.pseudoFields = encodeHeaders([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':authority', url.host],
    ]);
    try {
      this.regularFields = encodeHeaders([
        ['content-type', 'application/grpc'],
        // Required by gRPC: detects proxies that would drop trailers (where grpc-status lives).
        ['te', 'trailers'],
        ['user-agent', options.userAgent],
        ...Object.entries(options.metadata),
      ]);
    } catch (error) {
      this.regularFields = error instanceof Error ? error : new Error(String(error));
    }
  }

  /**
   * As `GrpcHttp2Client.unaryCall`, plus `onSent`: called once the whole request is in the kernel
   * on a connection known to be alive (see `isTrustedConnection`), before the response.
   */
  unaryCall(
    path: string,
    framedRequest: Uint8Array,
    timeoutMillis: number,
    callback: UnaryCallback,
    onSent?: () => void,
  ): void {
    const deadlineAt = Date.now() + timeoutMillis;
    const message = Buffer.isBuffer(framedRequest)
      ? framedRequest
      : Buffer.from(framedRequest.buffer, framedRequest.byteOffset, framedRequest.byteLength);
    let settled = false;
    let current: { connection: Connection; stream: Stream } | undefined;

    const deadline = this.deadlines.start(timeoutMillis, () => {
      const attempt = current;
      if (attempt) {
        // No answer at all may mean a dead connection that still looks open: stop reusing it.
        if (attempt.stream.headers === undefined) {
          if (this.connection === attempt.connection) this.connection = undefined;
          attempt.connection.retire(timeoutMillis);
        }
        attempt.connection.cancel(attempt.stream);
      }
      settle(deadlineExceeded(timeoutMillis));
    });
    const settle = (error: GrpcCallError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      deadline.end();
      callback(error, body);
    };
    let reportedSent = false;
    const sent = (): void => {
      if (reportedSent || settled || onSent === undefined) return;
      reportedSent = true;
      // The answer must not keep the event loop busy now (a callback handler's runtime waits for it).
      deadline.release();
      onSent();
    };

    const attempt = (net: NetModule, isRetry: boolean): void => {
      if (settled) return;
      let connection: Connection;
      let headerBlock: Buffer;
      try {
        // Before a connection is taken: a header the encoder refuses fails this call only. (A retry
        // runs in a socket event, where a throw would be uncaught.)
        if (this.regularFields instanceof Error) throw this.regularFields;
        headerBlock = Buffer.concat([
          this.pseudoFields,
          encodeHeaders([[':path', path]]),
          this.regularFields,
          encodeHeaders([['grpc-timeout', formatGrpcTimeout(deadlineAt - Date.now())]]),
        ]);
        connection = this.acquire(net, timeoutMillis);
      } catch (error) {
        settle(asCallError(error));
        return;
      }
      const reused = connection.answeredAt !== undefined;
      const trusted = isTrustedConnection(reused, connection.answeredAt);
      const stream = connection.open({
        headerBlock,
        unsent: message,
        headers: undefined,
        trailers: undefined,
        body: [],
        bodyBytes: 0,
        onWritten: () => {
          if (trusted) sent();
        },
        onEnd: (end) => {
          if (settled) return;
          if (end.kind === 'response') {
            settle(end.status, end.body);
            return;
          }
          if (end.beforeResponse && reused && !isRetry) {
            diag.debug(`otlp-grpc: call failed on a reused connection (${end.error.message}); retrying once`);
            attempt(net, true);
            return;
          }
          settle(
            end.beforeResponse
              ? failedBeforeResponse(end.error.message, end.error)
              : new GrpcCallError(
                  `OTLP export failed: response ended without grpc-status (${end.error.message})`,
                  GrpcStatus.INTERNAL,
                  { cause: end.error },
                ),
          );
        },
      });
      current = { connection, stream };
    };

    withBuiltin<NetModule>(
      'node:net',
      (net) => attempt(net, false),
      (error) => settle(asCallError(error)),
    );
  }

  /** Calls in flight stop keeping the process alive (the connection already does not); they go on. */
  releaseInFlight(): void {
    this.deadlines.releaseAll();
  }

  /**
   * Closes the connection, letting calls in flight finish within `graceMillis`; later calls fail.
   * Resolves once the connection is closed.
   */
  close(graceMillis: number): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined || connection.socket.destroyed) return Promise.resolve();
    return closed(connection.socket, () => connection.retire(graceMillis));
  }

  /** The connection to use; one that can take no more streams is retired (its calls go on). */
  private acquire(net: NetModule, timeoutMillis: number): Connection {
    if (this.closed) throw new GrpcCallError('OTLP exporter is shut down', GrpcStatus.CANCELLED);
    const cached = this.connection;
    if (cached?.usable) return cached;
    if (cached) cached.retire(timeoutMillis);
    const socket = net.connect(this.address);
    socket.unref();
    const connection = new Connection(socket, (dead) => {
      if (this.connection === dead) this.connection = undefined;
    });
    this.connection = connection;
    return connection;
  }
}

/** A frame: its 9-byte header and payload. */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(type, flags, streamId, payload.length), payload]);
}

function frameHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUIntBE(length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return header;
}

/** HEADERS, then CONTINUATION frames when the block is larger than the peer's frame size. */
function headerFrames(streamId: number, block: Buffer, maxFrame: number): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset === 0 || offset < block.length; offset += maxFrame) {
    const end = Math.min(block.length, offset + maxFrame);
    const type = offset === 0 ? FRAME.HEADERS : FRAME.CONTINUATION;
    frames.push(frameHeader(type, end === block.length ? FLAG.END_HEADERS : 0, streamId, end - offset));
    frames.push(block.subarray(offset, end));
  }
  return frames;
}

function settingsPayload(...settings: [id: number, value: number][]): Buffer {
  const payload = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], index) => {
    payload.writeUInt16BE(id, index * 6);
    payload.writeUInt32BE(value, index * 6 + 2);
  });
  return payload;
}

function uint32(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

/** The payload without its padding (PADDED flag: a length byte first, that many bytes last). */
function unpad(flags: number, payload: Buffer): Buffer {
  if ((flags & FLAG.PADDED) === 0) return payload;
  const padding = payload[0];
  if (padding === undefined || padding >= payload.length) {
    throw new ProtocolError('padding longer than the frame', ERROR.PROTOCOL_ERROR);
  }
  return payload.subarray(1, payload.length - padding);
}
