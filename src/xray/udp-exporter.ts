import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { diag } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { type DaemonAddress, resolveDaemonAddress } from './daemon-address.js';
import { DAEMON_HEADER, fitToDatagram, MAX_DATAGRAM_BYTES } from './datagram-fit.js';
import { type SegmentDocumentOptions, toSegmentDocuments } from './segment-document.js';

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
   * How long an export waits for the OS to take its datagrams before it reports FAILED.
   * Sends to a local address complete in microseconds; this only bounds a stuck DNS lookup of a
   * daemon host name. Default 1000 ms.
   */
  sendTimeoutMillis?: number;
}

/** Running totals of what the exporter did, for diagnostics and tests. */
export interface XRayUdpExporterStats {
  /** Datagrams the OS accepted. */
  sentDatagrams: number;
  /** Datagrams the OS refused (or that timed out). */
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
 * @example
 * const exporter = new XRayUdpExporter({ address: process.env.AWS_XRAY_DAEMON_ADDRESS });
 * provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 */
export class XRayUdpExporter implements SpanExporter {
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
  private readonly maxDatagramBytes: number;
  private readonly sendTimeoutMillis: number;
  private readonly pending = new Set<Promise<void>>();
  private socket: Socket | undefined;
  private isShutdown = false;

  constructor(options: XRayUdpExporterOptions = {}) {
    this.address = resolveDaemonAddress(options.address);
    this.options = {
      indexedAttributes: options.indexedAttributes,
      indexAllAttributes: options.indexAllAttributes,
    };
    this.maxDatagramBytes = positiveOr(options.maxDatagramBytes, MAX_DATAGRAM_BYTES);
    this.sendTimeoutMillis = positiveOr(options.sendTimeoutMillis, 1000);
  }

  /** Translates and sends `spans`; calls back once the OS has taken (or refused) every datagram. */
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

    const sending = this.send(datagrams).then((failed) => {
      if (failed === 0) resultCallback({ code: ExportResultCode.SUCCESS });
      else {
        resultCallback({
          code: ExportResultCode.FAILED,
          error: new Error(`X-Ray: ${failed} of ${datagrams.length} datagrams to the daemon were not sent`),
        });
      }
    });
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending));
  }

  /** Resolves once every export under way has called back. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Waits for exports under way, then closes the socket; later exports fail. */
  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    await this.forceFlush();
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) {
      await new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve(); // Already closed.
        }
      });
    }
  }

  /** Datagrams (header + document) for the spans, documents reduced or split to fit. */
  private encode(spans: readonly ReadableSpan[]): Buffer[] {
    const datagrams: Buffer[] = [];
    const dropped: string[] = [];
    let truncated = 0;
    let split = 0;
    for (const span of spans) {
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

  /** The socket, made on first use so an unused exporter costs nothing. */
  private getSocket(): Socket {
    if (this.socket === undefined) {
      const socket = createSocket(isIP(this.address.host) === 6 ? 'udp6' : 'udp4');
      // Without a listener an 'error' event would be thrown; UDP errors here only cost spans.
      socket.on('error', (error) => diag.debug('X-Ray: daemon socket error', error));
      // A socket closed under us is replaced on the next export rather than failing them all.
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
      });
      socket.unref();
      this.socket = socket;
    }
    return this.socket;
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
