/**
 * A lean OTLP trace exporter: the request is encoded by hand and sent over OTLP/HTTP or OTLP/gRPC,
 * written straight on a `node:net` socket for cleartext endpoints (`PlainHttpClient`,
 * `PlainGrpcClient`) and with `node:https` or `node:http2` for TLS ones, so loading it costs a few
 * milliseconds instead of the tens `@grpc/grpc-js` and protobufjs cost, a cost that would land in
 * every Lambda cold start.
 */
import { diag } from '@opentelemetry/api';
import type { ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpProtocol } from '../../config/load-config.js';
import { ExportHealth } from '../export-health.js';
import {
  type PartialSuccess,
  readPartialSuccess,
  readPartialSuccessMessage,
} from './decode-export-response.js';
import { encodeTraceExportRequest } from './encode-trace-request.js';
import { grpcOrigin, otlpHttpUrl, toGrpcMetadata, toHttpHeaders } from './exporter-config.js';
import { GRPC_MESSAGE_PREFIX_BYTES, GrpcHttp2Client, writeGrpcMessagePrefix } from './grpc-http2-client.js';
import { OtlpHttpClient } from './otlp-http-client.js';
import { PlainGrpcClient } from './plain-grpc-client.js';
import { PlainHttpClient } from './plain-http-client.js';

/** `TraceService.Export` (opentelemetry/proto/collector/trace/v1/trace_service.proto). */
export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** The `user-agent` sent with every export over gRPC. */
export const LEAN_EXPORTER_USER_AGENT = 'otel-lambda-xray-otlp-grpc';
/** The `user-agent` sent with every export over HTTP. */
export const LEAN_HTTP_EXPORTER_USER_AGENT = 'otel-lambda-xray-otlp-http';

const DEFAULT_TIMEOUT_MILLIS = 10_000;

// ExportResultCode's values, typed from its declaration but not imported at run time: the exporter
// then needs nothing from @opentelemetry/core but types, and loads without it.
const SUCCESS = 0 as ExportResultCode.SUCCESS;
const FAILED = 1 as ExportResultCode.FAILED;

/** Options of {@link LeanOtlpTraceExporter}. */
export interface LeanOtlpTraceExporterOptions {
  /** `grpc` (the default here) or `http/protobuf`. */
  protocol?: OtlpProtocol;
  /**
   * gRPC: the collector's `http://host:port` (cleartext) or `https://host:port` (TLS), any path
   * ignored. HTTP: the full URL to POST to, e.g. `http://localhost:4318/v1/traces`.
   */
  url: string;
  /** gRPC metadata or HTTP headers sent with every export. Values may be secrets: they are never logged. */
  headers?: Record<string, string>;
  /** Deadline of one export, connection included. */
  timeoutMillis: number;
  /**
   * Report success once the request is written on a connection known to be alive, not when the
   * collector answers; a failure the answer brings is logged when it comes. For a collector on the
   * same host (the Lambda extension), whose socket buffer then holds the spans. OTLP/gRPC to an
   * `https:` endpoint (on `node:http2`) always waits for the answer.
   */
  settleWhenSent?: boolean;
}

/** Carries one encoded request to the collector and reports its outcome. */
interface OtlpTransport {
  /** `OTLP/gRPC` or `OTLP/HTTP`, for messages. */
  readonly label: string;
  /** Bytes reserved before the encoded message (the gRPC message prefix). */
  readonly prefixBytes: number;
  /** Calls back once: an error, or the partial success the collector reported (if any). */
  send(request: Buffer, timeoutMillis: number, callback: TransportCallback): void;
  /** Requests in flight stop keeping the process alive; they go on. */
  releaseInFlight(): void;
  close(graceMillis: number): Promise<void>;
}
type TransportCallback = (error: Error | undefined, partial: PartialSuccess | undefined) => void;

/**
 * The outcome of each export: the collector's answer, or, when exports may be reported once sent
 * (see `settleWhenSent`), the first of "sent" and the answer; a failure the answer brings after
 * "sent" is logged (one warning, then debug lines), as the export was already reported done.
 */
class SendOutcomes {
  private readonly lateFailures = new ExportHealth();

  constructor(
    private readonly label: string,
    private readonly settleWhenSent: boolean,
    private readonly readPartial: (body: Buffer) => PartialSuccess | undefined,
  ) {}

  /** `onSent` for the client (`undefined`: wait for the answer), `onAnswer` for its callback. */
  track(callback: TransportCallback): {
    onSent: (() => void) | undefined;
    onAnswer: (error: Error | undefined, body: Buffer | undefined) => void;
  } {
    let reported = false;
    const { readPartial } = this;
    return {
      onSent: this.settleWhenSent
        ? () => {
            if (reported) return;
            reported = true;
            callback(undefined, undefined);
          }
        : undefined,
      onAnswer: (error, body) => {
        const partial = error || !body ? undefined : readPartial(body);
        if (!reported) {
          reported = true;
          callback(error, partial);
          return;
        }
        if (error)
          this.lateFailures.report(
            'late',
            `${this.label} exporter, reported after the export was sent: ${error.message}`,
          );
        else if (partial) this.lateFailures.report('late', describePartialSuccess(this.label, partial));
      },
    };
  }
}

/** `TraceService/Export` as a gRPC unary call. */
class GrpcTransport implements OtlpTransport {
  readonly label = 'OTLP/gRPC';
  readonly prefixBytes = GRPC_MESSAGE_PREFIX_BYTES;
  /** Cleartext collectors (the extension) get the lean client, TLS ones `node:http2`. */
  private readonly client: GrpcHttp2Client | PlainGrpcClient;
  private readonly outcomes: SendOutcomes;

  constructor(url: string, headers: Record<string, string> | undefined, settleWhenSent: boolean) {
    const options = {
      origin: grpcOrigin(url),
      metadata: toGrpcMetadata(headers),
      userAgent: LEAN_EXPORTER_USER_AGENT,
    };
    const plain = options.origin.startsWith('http:');
    this.client = plain ? new PlainGrpcClient(options) : new GrpcHttp2Client(options);
    // node:http2 does not tell when a request is in the kernel: over TLS the answer is awaited.
    this.outcomes = new SendOutcomes(this.label, settleWhenSent && plain, readPartialSuccess);
  }

  send(request: Buffer, timeoutMillis: number, callback: TransportCallback): void {
    writeGrpcMessagePrefix(request);
    const { onSent, onAnswer } = this.outcomes.track(callback);
    this.client.unaryCall(TRACE_EXPORT_PATH, request, timeoutMillis, onAnswer, onSent);
  }

  releaseInFlight(): void {
    this.client.releaseInFlight();
  }

  close(graceMillis: number): Promise<void> {
    return this.client.close(graceMillis);
  }
}

/** A binary protobuf POST (OTLP/HTTP). */
class HttpTransport implements OtlpTransport {
  readonly label = 'OTLP/HTTP';
  /** Room for the request head before the message, where the client writes it in place. */
  readonly prefixBytes: number;

  /** Cleartext endpoints (the collector extension) get the lean client, TLS ones `node:https`. */
  private readonly client: OtlpHttpClient | PlainHttpClient;
  private readonly outcomes: SendOutcomes;

  constructor(url: string, headers: Record<string, string> | undefined, settleWhenSent: boolean) {
    this.outcomes = new SendOutcomes(this.label, settleWhenSent, readPartialSuccessMessage);
    const options = {
      url: otlpHttpUrl(url),
      headers: toHttpHeaders(headers),
      userAgent: LEAN_HTTP_EXPORTER_USER_AGENT,
    };
    const plain = options.url.protocol === 'http:' ? new PlainHttpClient(options) : undefined;
    this.client = plain ?? new OtlpHttpClient(options);
    this.prefixBytes = plain?.headroom ?? 0;
  }

  send(request: Buffer, timeoutMillis: number, callback: TransportCallback): void {
    const { onSent, onAnswer } = this.outcomes.track(callback);
    this.client.post(request, { timeoutMillis, headroom: this.prefixBytes, onSent }, onAnswer);
  }

  releaseInFlight(): void {
    this.client.releaseInFlight();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * Exports spans to an OTLP collector: over gRPC (`TraceService/Export`, unary, uncompressed) on one
 * reused HTTP/2 connection, or over HTTP (a protobuf POST) on kept-alive HTTP/1.1 connections. The
 * request is the one the official exporters send, byte for byte (checked against
 * `@opentelemetry/otlp-transformer` 0.223.1 for SDK spans).
 *
 * `export` never throws and calls back exactly once: SUCCESS on gRPC status OK or an HTTP 2xx,
 * FAILED otherwise (refused connection, error status, deadline) with an error naming the status.
 * Nothing is buffered or retried beyond one immediate retry on a stale connection: batching and
 * dropping are the span processor's business.
 */
export class LeanOtlpTraceExporter implements SpanExporter {
  private readonly transport: OtlpTransport | undefined;
  private readonly configError: Error | undefined;
  private readonly timeoutMillis: number;
  private readonly inFlight = new Set<Promise<void>>();
  private isShutdown = false;

  constructor(options: LeanOtlpTraceExporterOptions) {
    const timeout = options.timeoutMillis;
    this.timeoutMillis = Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MILLIS;
    if (this.timeoutMillis !== timeout) {
      diag.warn(`OTLP exporter: invalid timeoutMillis ${timeout}; using ${DEFAULT_TIMEOUT_MILLIS}`);
    }
    try {
      this.transport =
        options.protocol === 'http/protobuf'
          ? new HttpTransport(options.url, options.headers, options.settleWhenSent ?? false)
          : new GrpcTransport(options.url, options.headers, options.settleWhenSent ?? false);
    } catch (error) {
      // Reported on every export rather than thrown: a misconfigured exporter must not break the
      // function it instruments.
      this.configError = error as Error;
      diag.error((error as Error).message);
    }
  }

  /** Sends `spans` as one ExportTraceServiceRequest; see the class comment for the outcome. */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let called = false;
    const done = (result: ExportResult): void => {
      if (called) return;
      called = true;
      try {
        resultCallback(result);
      } catch (error) {
        // The callback runs inside HTTP/2 event handlers, where a throw would be uncaught.
        diag.error('OTLP exporter: export result callback threw', error);
      }
    };
    try {
      const transport = this.transport;
      if (this.isShutdown) {
        done(failed(new Error('OTLP exporter is shut down')));
      } else if (!transport) {
        done(failed(this.configError ?? new Error('OTLP exporter is not configured')));
      } else if (spans.length === 0) {
        done({ code: SUCCESS }); // nothing to say: skip the round trip
      } else {
        this.send(transport, spans, done);
      }
    } catch (error) {
      done(failed(error instanceof Error ? error : new Error(String(error))));
    }
  }

  /** Requests in flight stop keeping the process alive (they go on); see `ReleasableExporter`. */
  releaseInFlight(): void {
    this.transport?.releaseInFlight();
  }

  /** Waits for the exports in flight (nothing is buffered here). */
  async forceFlush(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** Waits for the exports in flight, then closes the connection; later exports fail. */
  async shutdown(): Promise<void> {
    this.isShutdown = true;
    await this.forceFlush();
    await this.transport?.close(this.timeoutMillis);
  }

  private send(transport: OtlpTransport, spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const request = encodeTraceExportRequest(spans, transport.prefixBytes);
    let release!: () => void;
    const pending = new Promise<void>((resolve) => {
      release = resolve;
    });
    const settle = (): void => {
      this.inFlight.delete(pending);
      release();
    };
    this.inFlight.add(pending);
    try {
      transport.send(request, this.timeoutMillis, (error, partial) => {
        settle();
        if (error) {
          diag.debug(`${transport.label} exporter: ${error.message}`);
          done(failed(error));
          return;
        }
        if (partial) diag.warn(describePartialSuccess(transport.label, partial));
        done({ code: SUCCESS });
      });
    } catch (error) {
      settle(); // never leave forceFlush waiting on a call that did not start
      throw error;
    }
  }
}

function failed(error: Error): ExportResult {
  return { code: FAILED, error };
}

function describePartialSuccess(label: string, partial: PartialSuccess): string {
  return `${label} exporter: collector rejected ${partial.rejectedSpans} span(s)${partial.errorMessage ? `: ${partial.errorMessage}` : ''}`;
}
