/**
 * What the HTTP/2 tests share: the wire constants and frame builders of RFC 9113 for peers written
 * by hand, a reader that cuts a byte stream into frames, and a node:http2 server for the tests that
 * talk to nghttp2.
 */
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';

/** Frame types (RFC 9113 §6). */
export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 §6): `ACK` (SETTINGS, PING) and `END_STREAM` (DATA, HEADERS) share a bit. */
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** SETTINGS identifiers (RFC 9113 §6.5.2). */
export const SETTING = { HEADER_TABLE_SIZE: 0x1, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5 } as const;

/** SETTINGS_MAX_FRAME_SIZE until a peer raises it (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

/** The connection preface a client sends before its first frame (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A frame as read off the wire. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** One frame on the wire: the 9-byte header (RFC 9113 §4.1), then `payload`. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** `value` as 4 bytes, big-endian: a WINDOW_UPDATE increment, an error code, a stream ID. */
export function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

/** A SETTINGS frame's payload: each [identifier, value] pair as 6 bytes (RFC 9113 §6.5.1). */
export function settingsPayload(...pairs: [id: number, value: number][]): Buffer {
  const payload = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return payload;
}

/**
 * Cuts the bytes a peer sends into frames, whatever the chunks they arrive in. A server's reader
 * reads the client preface first (`expectPreface`), and calls `onBadPreface` if it is not one.
 */
export class FrameReader {
  private input = Buffer.alloc(0);
  private prefaceRead: boolean;

  constructor(private readonly options: { expectPreface?: boolean; onBadPreface?: () => void } = {}) {
    this.prefaceRead = !options.expectPreface;
  }

  /** Adds `chunk`; returns the frames now complete, in order (each payload a copy). */
  push(chunk: Buffer): Frame[] {
    this.input = Buffer.concat([this.input, chunk]);
    if (!this.prefaceRead) {
      if (this.input.length < CLIENT_PREFACE.length) return [];
      if (!this.input.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE))
        this.options.onBadPreface?.();
      this.input = this.input.subarray(CLIENT_PREFACE.length);
      this.prefaceRead = true;
    }
    const frames: Frame[] = [];
    while (this.input.length >= 9) {
      const length = this.input.readUIntBE(0, 3);
      if (this.input.length < 9 + length) break;
      frames.push({
        type: this.input[3] as number,
        flags: this.input[4] as number,
        streamId: this.input.readUInt32BE(5) & 0x7fff_ffff,
        payload: Buffer.from(this.input.subarray(9, 9 + length)),
      });
      this.input = this.input.subarray(9 + length);
    }
    return frames;
  }
}

/** A node:http2 server listening on 127.0.0.1 (see {@link serveHttp2}). */
export interface Http2TestServer {
  /** `http://127.0.0.1:<port>`: a gRPC client's origin, an exporter's URL. */
  origin: string;
  /** Each request's body, in the order the requests ended. */
  bodies: Buffer[];
  /** The connections accepted, in order. */
  sessions: http2.ServerHttp2Session[];
  /** Destroys every connection and closes the server. */
  close(): Promise<void>;
}

/**
 * A node:http2 server on an ephemeral 127.0.0.1 port with `options`: it calls `respond` once each
 * request has been read whole (its body is in `bodies` by then). Stream and session errors (a reset,
 * a connection the client dropped) are ignored: the tests look at what the client saw.
 */
export async function serveHttp2(
  respond: (stream: http2.ServerHttp2Stream) => void,
  options: http2.ServerOptions = {},
): Promise<Http2TestServer> {
  const server = http2.createServer(options);
  const bodies: Buffer[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (session) => {
    sessions.push(session);
    session.on('error', () => {});
  });
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      respond(stream);
    });
  });
  const { port, close } = await listenLocally(server, sessions);
  return { origin: `http://127.0.0.1:${port}`, bodies, sessions, close };
}

/**
 * Listens on an ephemeral 127.0.0.1 port; `close` destroys what `open` holds (the connections or
 * sessions the server accepted) and stops listening.
 */
async function listenLocally(
  server: net.Server | http2.Http2Server,
  open: readonly { destroy(): void }[],
): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const each of open) each.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A gRPC OK answer on a node:http2 stream: headers (with `extraHeaders`), an empty message, then
 * `grpc-status: 0` in the trailers. Nothing on a stream already closed (e.g. reset by the server).
 */
export function answerGrpcOk(
  stream: http2.ServerHttp2Stream,
  extraHeaders: http2.OutgoingHttpHeaders = {},
): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', ...extraHeaders },
    { waitForTrailers: true },
  );
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.alloc(5));
}

/** A peer that accepts TCP and never answers: it reads (and ignores) everything, so a client's FIN is seen. */
export interface SilentTcpServer {
  readonly port: number;
  /** The connections it accepted, in order. */
  readonly sockets: readonly net.Socket[];
  /** For each accepted connection, whether it has closed. */
  readonly closed: readonly boolean[];
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

export async function silentTcpServer(): Promise<SilentTcpServer> {
  const sockets: net.Socket[] = [];
  const closed: boolean[] = [];
  const server = net.createServer((socket) => {
    const index = sockets.push(socket) - 1;
    closed[index] = false;
    socket.on('error', () => {});
    socket.resume();
    socket.on('close', () => {
      closed[index] = true;
    });
  });
  return { ...(await listenLocally(server, sockets)), sockets, closed };
}
