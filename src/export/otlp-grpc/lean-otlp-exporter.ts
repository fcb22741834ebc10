/**
 * A lean OTLP/gRPC trace exporter: the request is encoded by hand and sent with `node:http2`, so
 * loading it costs a few milliseconds instead of the tens `@grpc/grpc-js` and protobufjs cost, a
 * cost that would land in every Lambda cold start.
 */
import { diag } from '@opentelemetry/api';
import type { ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { readPartialSuccess } from './decode-export-response.js';
import { encodeTraceExportRequest } from './encode-trace-request.js';
import { grpcOrigin, toGrpcMetadata } from './exporter-config.js';
import { GRPC_MESSAGE_PREFIX_BYTES, GrpcHttp2Client, writeGrpcMessagePrefix } from './grpc-http2-client.js';

/** `TraceService.Export` (opentelemetry/proto/collector/trace/v1/trace_service.proto). */
export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** The `user-agent` sent with every export. */
export const LEAN_EXPORTER_USER_AGENT = 'otel-lambda-xray-otlp-grpc';

const DEFAULT_TIMEOUT_MILLIS = 10_000;

// ExportResultCode's values, typed from its declaration but not imported at run time: the exporter
// then needs nothing from @opentelemetry/core but types, and loads without it.
const SUCCESS = 0 as ExportResultCode.SUCCESS;
const FAILED = 1 as ExportResultCode.FAILED;

/** Options of {@link LeanOtlpTraceExporter}. */
export interface LeanOtlpTraceExporterOptions {
  /** Collector endpoint, `http://host:port` (cleartext) or `https://host:port` (TLS). */
  url: string;
  /** gRPC metadata sent with every export. Values may be secrets: they are never logged. */
  headers?: Record<string, string>;
  /** Deadline of one export, connection included. */
  timeoutMillis: number;
}

/**
 * Exports spans to an OTLP/gRPC collector (`TraceService/Export`, unary, uncompressed) over one
 * reused HTTP/2 connection. The request is the one the official exporter sends, byte for byte (checked
 * against `@opentelemetry/otlp-transformer` 0.223.1 for SDK spans).
 *
 * `export` never throws and calls back exactly once: SUCCESS on gRPC status OK, FAILED otherwise
 * (refused connection, non-OK status, deadline) with an error naming the status. Nothing is
 * buffered or retried beyond one immediate retry on a stale connection: batching and dropping are
 * the span processor's business.
 */
export class LeanOtlpTraceExporter implements SpanExporter {
  private readonly client: GrpcHttp2Client | undefined;
  private readonly configError: Error | undefined;
  private readonly timeoutMillis: number;
  private readonly inFlight = new Set<Promise<void>>();
  private isShutdown = false;

  constructor(options: LeanOtlpTraceExporterOptions) {
    const timeout = options.timeoutMillis;
    this.timeoutMillis = Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MILLIS;
    if (this.timeoutMillis !== timeout) {
      diag.warn(`OTLP/gRPC exporter: invalid timeoutMillis ${timeout}; using ${DEFAULT_TIMEOUT_MILLIS}`);
    }
    let origin: string | undefined;
    try {
      origin = grpcOrigin(options.url);
    } catch (error) {
      // Reported on every export rather than thrown: a misconfigured exporter must not break the
      // function it instruments.
      this.configError = error as Error;
      diag.error((error as Error).message);
    }
    this.client =
      origin === undefined
        ? undefined
        : new GrpcHttp2Client({
            origin,
            metadata: toGrpcMetadata(options.headers),
            userAgent: LEAN_EXPORTER_USER_AGENT,
          });
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
        diag.error('OTLP/gRPC exporter: export result callback threw', error);
      }
    };
    try {
      const client = this.client;
      if (this.isShutdown) {
        done(failed(new Error('OTLP/gRPC exporter is shut down')));
      } else if (!client) {
        done(failed(this.configError ?? new Error('OTLP/gRPC exporter is not configured')));
      } else if (spans.length === 0) {
        done({ code: SUCCESS }); // nothing to say: skip the round trip
      } else {
        this.send(client, spans, done);
      }
    } catch (error) {
      done(failed(error instanceof Error ? error : new Error(String(error))));
    }
  }

  /** Waits for the exports in flight (nothing is buffered here). */
  async forceFlush(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** Waits for the exports in flight, then closes the connection; later exports fail. */
  async shutdown(): Promise<void> {
    this.isShutdown = true;
    await this.forceFlush();
    await this.client?.close(this.timeoutMillis);
  }

  private send(client: GrpcHttp2Client, spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const frame = encodeTraceExportRequest(spans, GRPC_MESSAGE_PREFIX_BYTES);
    writeGrpcMessagePrefix(frame);
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
      client.unaryCall(TRACE_EXPORT_PATH, frame, this.timeoutMillis, (error, body) => {
        settle();
        if (error) {
          diag.debug(`OTLP/gRPC exporter: ${error.message}`);
          done(failed(error));
          return;
        }
        if (body) warnOnPartialSuccess(body);
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

function warnOnPartialSuccess(body: Buffer): void {
  const partial = readPartialSuccess(body);
  if (!partial) return;
  diag.warn(
    `OTLP/gRPC exporter: collector rejected ${partial.rejectedSpans} span(s)${partial.errorMessage ? `: ${partial.errorMessage}` : ''}`,
  );
}
