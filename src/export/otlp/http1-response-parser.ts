/**
 * An incremental parser for the HTTP/1.1 responses an OTLP collector sends to a POST (RFC 9112):
 * a status line, header fields, then a body delimited by Content-Length, by chunked transfer coding
 * or by the end of the connection. Interim (1xx) responses are skipped.
 */
import { MAX_RESPONSE_BYTES } from './http-request.js';

/** Larger heads are refused: a collector's is a few hundred bytes. */
const MAX_HEAD_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?(?:\r\n|$)/;

/** A complete response. */
export interface Http1Response {
  status: number;
  reason: string;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Map<string, string>;
  /** The body, or empty when it was larger than the parser keeps. */
  body: Buffer;
  /** The connection may carry another request (HTTP/1.1, no `Connection: close`, body delimited). */
  keepAlive: boolean;
}

/** A response the parser cannot read: the connection must be closed. */
export class Http1ParseError extends Error {
  override readonly name = 'Http1ParseError';
}

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-data-end' }
  | { kind: 'trailers' }
  | { kind: 'until-close' }
  | { kind: 'done' };

/** Feed it the bytes of one response as they come; it says when the response is complete. */
export class Http1ResponseParser {
  private buffered: Buffer = EMPTY;
  private state: State = { kind: 'head' };
  private head: Omit<Http1Response, 'body'> | undefined;
  private readonly bodyParts: Buffer[] = [];
  private bodyBytes = 0;

  /** True once any byte of a response arrived (then a failure is not a stale connection). */
  get started(): boolean {
    return this.head !== undefined || this.buffered.length > 0;
  }

  /**
   * Takes the next bytes. Returns the response once complete, else undefined.
   *
   * @throws Http1ParseError on a malformed response, or bytes beyond its end.
   */
  feed(chunk: Buffer): Http1Response | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.state.kind !== 'done' && this.step()) {
      // Each step consumes what it can; it returns false when it needs more bytes.
    }
    if (this.state.kind !== 'done') return undefined;
    if (this.buffered.length > 0) throw new Http1ParseError('bytes after the end of the response');
    return this.response();
  }

  /** The connection ended: completes a body delimited by the end, else the response is cut short. */
  end(): Http1Response {
    if (this.state.kind === 'until-close') {
      this.state = { kind: 'done' };
      return this.response();
    }
    throw new Http1ParseError(this.started ? 'connection closed mid-response' : 'connection closed');
  }

  private response(): Http1Response {
    const { status, reason, headers, keepAlive } = this.head as Omit<Http1Response, 'body'>;
    const parts = this.bodyParts;
    const body =
      this.bodyBytes > MAX_RESPONSE_BYTES || parts.length === 0
        ? EMPTY
        : parts.length === 1
          ? (parts[0] as Buffer)
          : Buffer.concat(parts);
    return { status, reason, headers, body, keepAlive };
  }

  private step(): boolean {
    switch (this.state.kind) {
      case 'head':
        return this.readHead();
      case 'length':
        return this.readCounted(this.state, { kind: 'done' });
      case 'chunk-size':
        return this.readChunkSize();
      case 'chunk-data':
        return this.readCounted(this.state, { kind: 'chunk-data-end' });
      case 'chunk-data-end':
        return this.expectCrlf();
      case 'trailers':
        return this.readTrailers();
      case 'until-close':
        this.keep(this.take(this.buffered.length));
        return false;
      default:
        return false;
    }
  }

  private readHead(): boolean {
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.buffered.length > MAX_HEAD_BYTES) throw new Http1ParseError('response head too large');
      return false;
    }
    // One string and one pass over it: this runs after every export, after a freeze, when every
    // step is slow.
    const text = this.buffered.toString('latin1', 0, end);
    this.buffered = end + 4 === this.buffered.length ? EMPTY : this.buffered.subarray(end + 4);
    const statusLine = STATUS_LINE.exec(text);
    if (!statusLine) throw new Http1ParseError('malformed status line');
    const status = Number(statusLine[2]);
    const headers = new Map<string, string>();
    for (let start = statusLine[0].length; start < text.length; ) {
      const lineEnd = text.indexOf('\r\n', start);
      const stop = lineEnd < 0 ? text.length : lineEnd;
      const colon = text.indexOf(':', start);
      if (colon <= start || colon >= stop) throw new Http1ParseError('malformed header field');
      const name = text.slice(start, colon).trim().toLowerCase();
      const value = text.slice(colon + 1, stop).trim();
      const earlier = headers.get(name);
      headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
      start = stop + 2;
    }
    if (status < 200) return true; // an interim response: the real one follows
    const http11 = statusLine[1] === '1';
    const connection = (headers.get('connection') ?? '').toLowerCase();
    const persistent = http11 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    this.head = { status, reason: statusLine[3] ?? '', headers, keepAlive: persistent };
    this.state = this.bodyState(status, headers);
    if (this.state.kind === 'until-close') this.head.keepAlive = false;
    return true;
  }

  private bodyState(status: number, headers: Map<string, string>): State {
    if (status === 204 || status === 304) return { kind: 'done' };
    const coding = headers.get('transfer-encoding');
    if (coding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(coding)) return { kind: 'until-close' };
      return { kind: 'chunk-size' };
    }
    const length = headers.get('content-length');
    if (length === undefined) return { kind: 'until-close' };
    if (!/^\d+$/.test(length)) throw new Http1ParseError('invalid Content-Length');
    const remaining = Number(length);
    return remaining === 0 ? { kind: 'done' } : { kind: 'length', remaining };
  }

  /** Body bytes of a known count (the whole body, or one chunk), then on to `next`. */
  private readCounted(state: { remaining: number }, next: State): boolean {
    if (this.buffered.length === 0) return false;
    const part = this.take(Math.min(state.remaining, this.buffered.length));
    this.keep(part);
    state.remaining -= part.length;
    if (state.remaining === 0) this.state = next;
    return true;
  }

  private readChunkSize(): boolean {
    const end = this.buffered.indexOf('\r\n');
    if (end < 0) {
      if (this.buffered.length > 1024) throw new Http1ParseError('chunk size line too long');
      return false;
    }
    const line = this.take(end + 2).toString('latin1', 0, end);
    const size = /^([0-9a-fA-F]+)\s*(;.*)?$/.exec(line);
    if (!size) throw new Http1ParseError('malformed chunk size');
    const remaining = Number.parseInt(size[1] as string, 16);
    this.state = remaining === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining };
    return true;
  }

  private expectCrlf(): boolean {
    if (this.buffered.length < 2) return false;
    if (this.take(2).toString('latin1') !== '\r\n') throw new Http1ParseError('malformed chunk end');
    this.state = { kind: 'chunk-size' };
    return true;
  }

  /** Trailer fields after the last chunk, ended by an empty line; their content is not needed. */
  private readTrailers(): boolean {
    const end = this.buffered.indexOf('\r\n');
    if (end < 0) return false;
    this.take(end + 2);
    if (end === 0) this.state = { kind: 'done' };
    return true;
  }

  private take(count: number): Buffer {
    const taken = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return taken;
  }

  private keep(part: Buffer): void {
    this.bodyBytes += part.length;
    if (this.bodyBytes <= MAX_RESPONSE_BYTES) this.bodyParts.push(part);
  }
}
