import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { diag } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { UntracedExporter } from '../export/lambda-span-processor.js';
import { type DaemonAddress, resolveDaemonAddress } from './daemon-address.js';
import { DAEMON_HEADER, fitToDatagram, MAX_DATAGRAM_BYTES } from './datagram-fit.js';
import { type SegmentDocumentOptions, toSegmentDocuments } from './segment-document.js';
import { SegmentTemplates } from './segment-templates.js';

/** Options of {@link XRayUdpExporter}. */
export interface XRayUdpExporterOptions extends SegmentDocumentOptions {
  /**
   * The daemon address as `AWS_XRAY_DAEMON_ADDRESS` writes it: `host:port` or
   * `tcp:host:port udp:host:port`. Default `127.0.0.1:2000`; a malformed value warns once and
   * falls back to the default.
   */
  address?: string;
  /** Largest datagram sent, header included. Default 64,000 bytes. */
  maxDatagramBytes?: number;
  /**
   * How long an export waits for the OS to take its datagrams before it reports FAILED (and how
   * long `forceFlush` waits for send callbacks of exports that did not wait).
   * Sends to a local address complete in microseconds; this only bounds a stuck DNS lookup of a
   * daemon host name. Default 1000 ms.
   */
  sendTimeoutMillis?: number;
}

/** Running totals of what the exporter did, for diagnostics and tests. */
export interface XRayUdpExporterStats {
  /**
   * Datagrams the OS accepted; on the connected socket, a send made without a callback (see
   * {@link CHECK_EVERY}) counts as accepted when `send()` did not throw.
   */
  sentDatagrams: number;
  /** Datagrams the OS refused (or that timed out), as far as their callbacks told. */
  failedDatagrams: number;
  /** Documents (or split-out pieces) too large to send even when reduced, or unserialisable. */
  droppedDocuments: number;
  /** Strings and arrays shortened to fit a datagram. */
  truncatedValues: number;
  /** Embedded subsegments sent as independent documents to fit a datagram. */
  splitSubsegments: number;
}

/**
 * A `SpanExporter` that sends each span, as an X-Ray segment document, straight to the X-Ray
 * daemon over UDP (in Lambda, the daemon Lambda runs next to the function): one datagram per
 * document, each the header line `{"format":"json","version":1}` and the document, never over
 * 64 KB.
 *
 * Made for Lambda's freeze: `export` calls back only once the OS took every datagram (or
 * refused it), so a flush before the response really sent the spans. It never throws and
 * never blocks: with no daemon listening the datagrams are simply lost, and the socket is
 * unref'd so it never keeps the process alive.
 *
 * When the daemon address is an IP address (as in Lambda), the first export connects the socket to
 * it and sends once connected; that and every later export call back as soon as `send()`
 * returned, without the address lookup, the extra turn and the send callback an unconnected send
 * waits for. On a connected socket Node (20 to 24, `lib/dgram.js` `doSend`) makes the `sendto()`
 * inside `send()` itself; only a full socket buffer (`EAGAIN`) defers it to the event loop, which
 * a lone daemon datagram does not meet. Only one send in {@link CHECK_EVERY} there carries a
 * callback (Node calls it on the next tick even for a send already done). Errors the OS reports
 * through the send callback, after the export called back, are counted then and reported with the
 * next export, and every send is checked until one succeeds; "connection refused" (no daemon
 * listening) is counted only, as such datagrams were always lost silently. A host name
 * (which could change address) or a socket that cannot be connected keeps an unconnected socket,
 * with a lookup per send, and exports that wait for their send callbacks.
 *
 * @example
 * const exporter = new XRayUdpExporter({ address: process.env.AWS_XRAY_DAEMON_ADDRESS });
 * provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 */
export class XRayUdpExporter implements SpanExporter, UntracedExporter {
  /** Its datagrams go through `node:dgram`, which no instrumentation of the layer traces. */
  readonly sendsUntraced = true;
  /** Where the datagrams go. */
  readonly address: DaemonAddress;
  /** Running totals since construction. */
  readonly stats: XRayUdpExporterStats = {
    sentDatagrams: 0,
    failedDatagrams: 0,
    droppedDocuments: 0,
    truncatedValues: 0,
    splitSubsegments: 0,
  };

  private readonly options: SegmentDocumentOptions;
  private readonly templates: SegmentTemplates;
  private readonly maxDatagramBytes: number;
  private readonly sendTimeoutMillis: number;
  private readonly pending = new Set<Promise<void>>();
  /** The unconnected socket (a host name, or no connection possible): sends to the address given. */
  private socket: Socket | undefined;
  /** The socket connected to the daemon, once its connection is made. */
  private connected: Socket | undefined;
  /** The connection under way or made; `undefined` in it: exports use the unconnected socket. */
  private connecting: Promise<Socket | undefined> | undefined;
  /** Datagrams sent on the connected socket whose send callback has not run yet. */
  private inFlight = 0;
  /** Sends on the connected socket to make without a callback before the next checked one. */
  private uncheckedLeft = 0;
  /** The last checked send failed (other than refused): every send is checked until one succeeds. */
  private failing = false;
  /** `forceFlush` calls waiting for `inFlight` to reach zero. */
  private drainWaiters: (() => void)[] = [];
  /** Send failures the OS reported after their export had called back, not yet reported. */
  private lateFailures = 0;
  private lateError: Error | undefined;
  private isShutdown = false;

  constructor(options: XRayUdpExporterOptions = {}) {
    this.address = resolveDaemonAddress(options.address);
    this.options = {
      // A copy: the templates hold what the list said when they were made.
      indexedAttributes: options.indexedAttributes && [...options.indexedAttributes],
      indexAllAttributes: options.indexAllAttributes,
    };
    this.templates = new SegmentTemplates(this.options);
    this.maxDatagramBytes = positiveOr(options.maxDatagramBytes, MAX_DATAGRAM_BYTES);
    this.sendTimeoutMillis = positiveOr(options.sendTimeoutMillis, 1000);
  }

  /**
   * Translates and sends `spans`; calls back once the OS has taken (or refused) every datagram,
   * or, on the connected socket, as soon as `send()` handed them over (see the class).
   */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.isShutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('X-Ray UDP exporter is shut down') });
      return;
    }
    let datagrams: Buffer[];
    try {
      datagrams = this.encode(spans);
    } catch (error: unknown) {
      diag.debug('X-Ray: could not encode spans', error);
      resultCallback({ code: ExportResultCode.FAILED, error: toError(error) });
      return;
    }
    if (datagrams.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }

    if (this.connected !== undefined) {
      const failed = this.sendConnected(this.connected, datagrams);
      resultCallback(this.result(failed, datagrams.length));
      return;
    }

    const sending = this.connect()
      .then((socket) => (socket === undefined ? this.send(datagrams) : this.sendConnected(socket, datagrams)))
      .then((failed) => resultCallback(this.result(failed, datagrams.length)));
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending));
  }

  /** Resolves once every export under way has called back and every send callback ran. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
    await this.drained();
  }

  /** Waits for exports under way, then closes the sockets; later exports fail. */
  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    await this.forceFlush();
    const sockets = [this.socket, this.connected];
    this.socket = undefined;
    this.connected = undefined;
    await Promise.all(sockets.map(closeSocket));
  }

  /** The export's result: `failed` of `count` datagrams not sent, plus failures reported late. */
  private result(failed: number, count: number): ExportResult {
    const late = this.lateFailures;
    if (failed === 0 && late === 0) return { code: ExportResultCode.SUCCESS };
    const problems: string[] = [];
    if (failed > 0) problems.push(`${failed} of ${count} datagrams to the daemon were not sent`);
    if (late > 0) {
      problems.push(`${late} datagrams of earlier exports were not sent (${this.lateError?.message})`);
      this.lateFailures = 0;
      this.lateError = undefined;
    }
    return { code: ExportResultCode.FAILED, error: new Error(`X-Ray: ${problems.join('; ')}`) };
  }

  /**
   * Datagrams for the spans, each the header line then the document in one buffer (sent as a list
   * of the two, Node copies the list and checks each part on every send; the header's 30 bytes
   * cost less to copy): from a template when the span has one and its document fits (see
   * `SegmentTemplates`), else translated and reduced or split to fit.
   */
  private encode(spans: readonly ReadableSpan[]): Buffer[] {
    const datagrams: Buffer[] = [];
    const dropped: string[] = [];
    let truncated = 0;
    let split = 0;
    for (const span of spans) {
      const json = this.templates.serialize(span);
      if (json !== undefined) {
        const datagram = Buffer.from(DAEMON_HEADER + json);
        if (datagram.length <= this.maxDatagramBytes) {
          datagrams.push(datagram);
          continue;
        }
      }
      for (const document of toSegmentDocuments(span, this.options)) {
        const fit = fitToDatagram(document, this.maxDatagramBytes);
        for (const payload of fit.payloads) datagrams.push(Buffer.from(DAEMON_HEADER + payload));
        dropped.push(...fit.dropped);
        truncated += fit.truncatedValues;
        split += fit.splitSubsegments;
      }
    }
    this.stats.droppedDocuments += dropped.length;
    this.stats.truncatedValues += truncated;
    this.stats.splitSubsegments += split;
    if (truncated > 0 || split > 0) {
      diag.debug(
        `X-Ray: to fit ${this.maxDatagramBytes}-byte datagrams, shortened ${truncated} values, split out ${split} subsegments`,
      );
    }
    if (dropped.length > 0) diag.debug(`X-Ray: dropped ${dropped.length} documents: ${dropped.join('; ')}`);
    return datagrams;
  }

  /** Sends the datagrams; resolves with how many failed, once all send callbacks ran. */
  private send(datagrams: readonly Buffer[]): Promise<number> {
    return new Promise<number>((resolve) => {
      let outstanding = datagrams.length;
      let failed = 0;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.stats.sentDatagrams += datagrams.length - failed - outstanding;
        this.stats.failedDatagrams += failed + outstanding;
        resolve(failed + outstanding);
      };
      const timer = setTimeout(() => {
        diag.debug(`X-Ray: ${outstanding} datagrams still unsent after ${this.sendTimeoutMillis} ms`);
        settle();
      }, this.sendTimeoutMillis);
      timer.unref();

      const onSent = (error: Error | null) => {
        outstanding -= 1;
        if (error) {
          failed += 1;
          diag.debug(`X-Ray: datagram to ${this.address.host}:${this.address.port} not sent`, error);
        }
        if (outstanding === 0) settle();
      };
      for (const datagram of datagrams) {
        try {
          this.getSocket().send(datagram, this.address.port, this.address.host, onSent);
        } catch (error: unknown) {
          onSent(toError(error));
        }
      }
    });
  }

  /**
   * Sends the datagrams on the connected socket without waiting for their callbacks; returns how
   * many `send()` refused at once. The checked ones are counted when their callbacks run, the
   * others as sent at once (see {@link CHECK_EVERY}).
   */
  private sendConnected(socket: Socket, datagrams: readonly Buffer[]): number {
    let failed = 0;
    for (const datagram of datagrams) {
      const checked = this.uncheckedLeft === 0 || this.failing;
      try {
        if (checked) {
          this.inFlight += 1;
          this.uncheckedLeft = CHECK_EVERY - 1;
          socket.send(datagram, this.onConnectedSent);
        } else {
          this.uncheckedLeft -= 1;
          socket.send(datagram);
          this.stats.sentDatagrams += 1;
        }
      } catch (error: unknown) {
        // Thrown before anything was queued (a socket closed under us): no callback will come.
        if (checked) this.inFlight -= 1;
        failed += 1;
        diag.debug(`X-Ray: datagram to ${this.address.host}:${this.address.port} not sent`, error);
      }
    }
    this.stats.failedDatagrams += failed;
    if (this.inFlight === 0) this.wakeDrainWaiters();
    return failed;
  }

  /**
   * Callback of every checked send on the connected socket (one function, not one per datagram). It runs
   * after the export called back, so a failure is counted now and reported with the next export;
   * except "connection refused": nobody listens at the daemon's address, which the unconnected
   * socket never learns either, and which loses the datagrams silently as it always did.
   */
  private readonly onConnectedSent = (error: Error | null): void => {
    this.inFlight -= 1;
    if (error === null) {
      this.stats.sentDatagrams += 1;
      this.failing = false;
    } else {
      this.stats.failedDatagrams += 1;
      diag.debug(`X-Ray: datagram to ${this.address.host}:${this.address.port} not sent`, error);
      if (!isConnectionRefused(error)) {
        this.lateFailures += 1;
        this.lateError = error;
        this.failing = true;
      }
    }
    if (this.inFlight === 0) this.wakeDrainWaiters();
  };

  /** Resolves once no send on the connected socket awaits its callback, or after the send timeout. */
  private drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.sendTimeoutMillis);
      timer.unref();
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeDrainWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * The socket connected to the daemon, connecting it on first use when its address is an IP
   * address (a host name could change address: it stays with a lookup per send); `undefined`
   * when it cannot be connected, for good: exports then use the unconnected socket.
   */
  private connect(): Promise<Socket | undefined> {
    if (this.connecting !== undefined) return this.connecting;
    const family = isIP(this.address.host);
    if (family === 0 || this.isShutdown) {
      this.connecting = Promise.resolve(undefined);
      return this.connecting;
    }
    const connecting = new Promise<Socket | undefined>((resolve) => {
      const socket = openSocket(family === 6 ? 'udp6' : 'udp4', () => {
        // A connected socket closed under us is connected again on a later export.
        if (this.connected !== socket) return;
        this.connected = undefined;
        this.connecting = undefined;
      });
      const onConnect = (error?: Error) => {
        if (error !== undefined) {
          diag.debug(
            `X-Ray: could not connect to the daemon at ${this.address.host}:${this.address.port}`,
            error,
          );
          void closeSocket(socket);
          resolve(undefined);
        } else if (this.isShutdown) {
          void closeSocket(socket);
          resolve(undefined);
        } else {
          this.connected = socket;
          resolve(socket);
        }
      };
      try {
        socket.connect(this.address.port, this.address.host, onConnect);
      } catch (error: unknown) {
        onConnect(toError(error));
      }
    });
    this.connecting = connecting;
    return connecting;
  }

  /** The unconnected socket, made on first use so an unused exporter costs nothing. */
  private getSocket(): Socket {
    if (this.socket === undefined) {
      const socket = openSocket(isIP(this.address.host) === 6 ? 'udp6' : 'udp4', () => {
        // A socket closed under us is replaced on the next export rather than failing them all.
        if (this.socket === socket) this.socket = undefined;
      });
      this.socket = socket;
    }
    return this.socket;
  }
}

/**
 * One send in this many on the connected socket carries a callback (the first always does, and
 * every send while they fail). Node calls a send's callback on the next tick even when the send
 * was done inside `send()`: a tick object and a turn of its queue on every invocation's way to its
 * response (~40 µs after a freeze, a twentieth of the layer's warm cost). What the callbacks find
 * is diagnostics only (the export has called back already): a path to the daemon that fails fails
 * every send, so a check in fifteen still finds it within a few invocations. Odd, so that failures
 * of every other send are seen too: with nothing listening, each refusal is reported by the next
 * send, which is then not sent, so sends alternate sent and refused. A send Node had to defer (a
 * full socket buffer, which a lone daemon datagram does not meet) and made without a callback is
 * not waited for by `forceFlush`.
 */
export const CHECK_EVERY = 15;

/** An unref'd UDP socket whose errors are logged, never thrown. */
function openSocket(type: 'udp4' | 'udp6', onClose: () => void): Socket {
  const socket = createSocket(type);
  // Without a listener an 'error' event would be thrown; UDP errors here only cost spans (a
  // connected socket also reports here the "connection refused" of a daemon not listening).
  socket.on('error', (error) => diag.debug('X-Ray: daemon socket error', error));
  socket.on('close', onClose);
  socket.unref();
  return socket;
}

/** Closes `socket` (if any); resolves once closed, or at once if it already was. */
function closeSocket(socket: Socket | undefined): Promise<void> {
  if (socket === undefined) return Promise.resolve();
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // Already closed.
    }
  });
}

/** Whether a send failed because nothing listens at the daemon's address. */
function isConnectionRefused(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
