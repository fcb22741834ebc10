/**
 * Everything the benchmark's setups export to, in one place: the tests' OTLP receiver, for gRPC (this
 * layer with `grpc`), an OTLP/HTTP receiver (this layer's and the peers' default, http/protobuf) and a UDP socket standing
 * in for the X-Ray daemon (this layer's `xray` exporter, ADOT's Lambda default, the X-Ray SDK).
 *
 * Spans are stamped when {@link SpanSinks.collect} runs, not when the bytes arrive: the runner collects
 * right after each invocation, while the function is frozen, so a span collected then was sent before
 * the freeze, and one collected only after the next invocation came late.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeSpans, OtlpReceiver, type ReceivedSpan } from '../../test/helpers/otlp-receiver.js';
import { drainPendingIo } from '../../test/helpers/traced-function.js';

/** One span as the benchmark needs it, whatever the wire format. */
export interface ArrivedSpan {
  /** 32 lower-case hex digits (an X-Ray `1-xxxxxxxx-yyyy…` ID with its dashes removed). */
  traceId: string;
  name: string;
  /** When the span ended, epoch ms (the function's clock, which is this machine's). */
  endMs: number;
  /** When the benchmark collected it (see {@link SpanSinks.collect}), epoch ms. */
  collectedMs: number;
}

/** The three receivers, filling one list. */
export class SpanSinks {
  /** Every span collected so far, in arrival order. */
  readonly spans: ArrivedSpan[] = [];
  /** Received but not yet collected (the gRPC receiver keeps its own list). */
  private pending: Omit<ArrivedSpan, 'collectedMs'>[] = [];
  private grpcSeen = 0;

  private constructor(
    private readonly grpc: OtlpReceiver,
    private readonly http: Server,
    private readonly udp: Socket,
  ) {}

  /** Starts all three on ephemeral ports of 127.0.0.1. */
  static async start(): Promise<SpanSinks> {
    const grpc = await OtlpReceiver.start({ answerFirst: true });
    let sinks: SpanSinks | undefined;
    const http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        // Answered first (an empty ExportTraceServiceResponse; metrics and logs are acknowledged
        // and dropped), decoded on the next turn, as a collector answers before its pipeline runs:
        // this receiver's decoding in JavaScript is not the exporter's time. collect() runs after.
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        if (!req.url?.endsWith('/v1/traces')) return;
        setImmediate(() => {
          try {
            const raw = Buffer.concat(chunks);
            sinks?.addOtlp(decodeSpans(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw));
          } catch {
            // An undecodable request counts as no spans: the report shows them missing.
          }
        });
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    sinks = new SpanSinks(grpc, http, udp);
    udp.on('message', (datagram) => sinks?.addDatagram(datagram));
    return sinks;
  }

  /** `http://127.0.0.1:PORT` of the OTLP/gRPC receiver. */
  get grpcEndpoint(): string {
    return this.grpc.grpcEndpoint;
  }

  /** `http://127.0.0.1:PORT` of the OTLP/HTTP receiver (exporters append `/v1/traces`). */
  get httpEndpoint(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** `127.0.0.1:PORT` of the stand-in X-Ray daemon. */
  get daemonAddress(): string {
    return `127.0.0.1:${this.udp.address().port}`;
  }

  /**
   * Stamps everything received since the last call and returns how many spans that was. A macrotask
   * first, so datagrams and requests already queued on the sockets are read.
   */
  async collect(): Promise<number> {
    await drainPendingIo();
    this.addOtlp(this.grpc.spans.slice(this.grpcSeen));
    this.grpcSeen = this.grpc.spans.length;
    const collectedMs = Date.now();
    for (const span of this.pending) this.spans.push({ ...span, collectedMs });
    const count = this.pending.length;
    this.pending = [];
    return count;
  }

  async close(): Promise<void> {
    await this.grpc.close();
    this.http.closeAllConnections();
    await new Promise((resolve) => this.http.close(resolve));
    this.udp.close();
  }

  private addOtlp(spans: readonly ReceivedSpan[]): void {
    for (const span of spans) {
      this.pending.push({
        traceId: span.traceId,
        name: span.name,
        endMs: Number(span.endTimeUnixNano / 1_000_000n),
      });
    }
  }

  /**
   * A daemon datagram: `{"format":"json","version":1}\n` then either an X-Ray segment document, or
   * (ADOT) `T1S`/`T1U` and a base64 OTLP protobuf request for sampled/unsampled spans.
   */
  private addDatagram(datagram: Buffer): void {
    const text = datagram.toString('utf8');
    const body = text.slice(text.indexOf('\n') + 1);
    if (body.startsWith('T1U')) return; // Unsampled spans, kept by ADOT for metrics only.
    if (body.startsWith('T1S')) {
      this.addOtlp(decodeSpans(Buffer.from(body.slice(3), 'base64')));
      return;
    }
    try {
      const document = JSON.parse(body) as {
        trace_id?: string;
        name?: string;
        end_time?: number;
        in_progress?: boolean;
      };
      if (document.in_progress || document.end_time === undefined || !document.trace_id) return;
      this.pending.push({
        traceId: document.trace_id.replace(/^1-/, '').replace('-', ''),
        name: document.name ?? '',
        endMs: document.end_time * 1000,
      });
    } catch {
      // Not a document this benchmark understands: not counted.
    }
  }
}
