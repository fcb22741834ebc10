/**
 * An OTLP/gRPC trace receiver for tests: a real `@grpc/grpc-js` server on
 * 127.0.0.1 serving `TraceService/Export`, decoding requests with the
 * protobufjs root generated in `@opentelemetry/otlp-transformer`.
 *
 * Requests are recorded when they arrive, whatever the receiver answers
 * (so in `hang` mode you still see what the exporter tried to send).
 */

import type { Metadata, ServerUnaryCall, ServiceError, sendUnaryData } from '@grpc/grpc-js';
import grpc from '@grpc/grpc-js';
import otlpRoot from 'otlp-proto-root/build/src/generated/root.js';

/** One span as received, flattened with its resource and scope. */
export interface ReceivedSpan {
  /** Lower-case hex; '' when absent. */
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  events: { name: string; timeUnixNano: bigint; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  /** Instrumentation scope name. */
  scope: string;
}

/** One Export call as received. */
export interface ReceivedExport {
  /** The uncompressed protobuf request. */
  payload: Buffer;
  /** gRPC request metadata (headers), first value of each. */
  metadata: Record<string, string>;
  spans: ReceivedSpan[];
}

/** How the receiver answers. */
export interface OtlpReceiverOptions {
  /** Accept calls but never answer them (a collector that never responds). */
  hang?: boolean;
  /** Answer every call with this gRPC error instead of success. */
  failWith?: { code: grpc.status; details?: string };
}

// Minimal shapes of the generated protobufjs messages we read (the generated d.ts is untyped).
interface LongLike {
  toString(): string;
}
type Int64 = number | LongLike | null;
interface AnyValueMsg {
  stringValue: string | null;
  boolValue: boolean | null;
  intValue: Int64;
  doubleValue: number | null;
  arrayValue: { values: AnyValueMsg[] } | null;
  kvlistValue: { values: KeyValueMsg[] } | null;
  bytesValue: Uint8Array | null;
}
interface KeyValueMsg {
  key: string | null;
  value: AnyValueMsg | null;
}
interface SpanMsg {
  traceId: Uint8Array | null;
  spanId: Uint8Array | null;
  parentSpanId: Uint8Array | null;
  traceState: string | null;
  name: string | null;
  kind: number | null;
  startTimeUnixNano: Int64;
  endTimeUnixNano: Int64;
  attributes: KeyValueMsg[];
  events: { name: string | null; timeUnixNano: Int64; attributes: KeyValueMsg[] }[];
  links: { traceId: Uint8Array | null; spanId: Uint8Array | null; attributes: KeyValueMsg[] }[];
  status: { code: number | null; message: string | null } | null;
}
interface ExportTraceServiceRequestMsg {
  resourceSpans: {
    resource: { attributes: KeyValueMsg[] } | null;
    scopeSpans: { scope: { name: string | null } | null; spans: SpanMsg[] }[];
  }[];
}
interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): ExportTraceServiceRequestMsg } };
        };
      };
    };
  };
}

const { ExportTraceServiceRequest } = (otlpRoot as unknown as GeneratedRoot).opentelemetry.proto.collector
  .trace.v1;

const identity = (bytes: Buffer): Buffer => bytes;
const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
/** An empty ExportTraceServiceResponse encodes to zero bytes. */
const EMPTY_RESPONSE = Buffer.alloc(0);

interface Waiter {
  check(): boolean;
}

/** The receiver; start with {@link OtlpReceiver.start}. */
export class OtlpReceiver {
  /** `http://127.0.0.1:PORT`, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** Every span received so far, in arrival order. */
  readonly spans: ReceivedSpan[] = [];
  /** Every Export request so far. */
  readonly exports: ReceivedExport[] = [];
  hang: boolean;
  failWith: OtlpReceiverOptions['failWith'];
  private readonly waiters = new Set<Waiter>();

  private constructor(
    private readonly server: grpc.Server,
    port: number,
    options: OtlpReceiverOptions,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
    this.hang = options.hang ?? false;
    this.failWith = options.failWith;
  }

  /** Starts a receiver on an ephemeral port. */
  static async start(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
    const server = new grpc.Server();
    let receiver: OtlpReceiver | undefined;
    server.addService(TRACE_SERVICE, {
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
        receiver?.onExport(call, callback),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    receiver = new OtlpReceiver(server, port, options);
    return receiver;
  }

  /** Number of Export calls received. */
  get exportCount(): number {
    return this.exports.length;
  }

  /** The raw (uncompressed protobuf) bytes of every Export request, to search for leaked strings. */
  get rawPayloads(): Buffer[] {
    return this.exports.map((e) => e.payload);
  }

  /** True if any exported payload contains this string (UTF-8), anywhere: names, attributes, resource... */
  payloadIncludes(text: string): boolean {
    return this.exports.some((e) => e.payload.includes(text, 0, 'utf8'));
  }

  /** Resolves with all spans once `predicate(spans)` holds; rejects after `timeoutMs` listing what arrived. */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    return this.waitUntil(() => predicate(this.spans), timeoutMs, 'spans matching the predicate').then(() => [
      ...this.spans,
    ]);
  }

  /** Resolves once at least `count` Export calls arrived. */
  waitForExports(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(() => this.exports.length >= count, timeoutMs, `${count} export call(s)`);
  }

  /** Forgets everything received. */
  clear(): void {
    this.spans.length = 0;
    this.exports.length = 0;
  }

  /** Stops the server, cancelling calls left hanging. */
  async close(): Promise<void> {
    this.server.forceShutdown();
  }

  private onExport(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
    const payload = call.request;
    let spans: ReceivedSpan[];
    try {
      spans = decodeSpans(payload);
    } catch (error) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `undecodable request: ${String(error)}` });
      return;
    }
    this.exports.push({ payload, metadata: firstValues(call.metadata), spans });
    this.spans.push(...spans);
    for (const waiter of this.waiters) waiter.check();
    if (this.hang) return;
    if (this.failWith) {
      callback(this.failWith as Partial<ServiceError>);
      return;
    }
    callback(null, EMPTY_RESPONSE);
  }

  private waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!condition()) return false;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private describe(): string {
    if (this.spans.length === 0) return `received ${this.exports.length} export(s) and no spans`;
    const list = this.spans.map(
      (s) => `  ${s.name} (kind ${s.kind}, trace ${s.traceId}, parent ${s.parentSpanId || '-'})`,
    );
    return `received ${this.exports.length} export(s) with ${this.spans.length} span(s):\n${list.join('\n')}`;
  }
}

/** Decodes one ExportTraceServiceRequest into flat spans. */
export function decodeSpans(payload: Uint8Array): ReceivedSpan[] {
  const request = ExportTraceServiceRequest.decode(payload);
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = attributesOf(resourceSpans.resource?.attributes ?? []);
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const scope = scopeSpans.scope?.name ?? '';
      for (const span of scopeSpans.spans) {
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          traceState: span.traceState ?? '',
          name: span.name ?? '',
          kind: span.kind ?? 0,
          startTimeUnixNano: toBigInt(span.startTimeUnixNano),
          endTimeUnixNano: toBigInt(span.endTimeUnixNano),
          attributes: attributesOf(span.attributes),
          resource,
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          events: span.events.map((e) => ({
            name: e.name ?? '',
            timeUnixNano: toBigInt(e.timeUnixNano),
            attributes: attributesOf(e.attributes),
          })),
          links: span.links.map((l) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            attributes: attributesOf(l.attributes),
          })),
          scope,
        });
      }
    }
  }
  return spans;
}

function attributesOf(keyValues: KeyValueMsg[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of keyValues) out[kv.key ?? ''] = anyValue(kv.value);
  return out;
}

/** AnyValue to JS: int64 becomes a number when it fits exactly, a bigint otherwise. */
function anyValue(value: AnyValueMsg | null): unknown {
  if (!value) return undefined;
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue;
  if (value.intValue != null) {
    const big = toBigInt(value.intValue);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
  if (value.doubleValue != null) return value.doubleValue;
  if (value.arrayValue != null) return value.arrayValue.values.map(anyValue);
  if (value.kvlistValue != null) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue != null) return Buffer.from(value.bytesValue);
  return undefined;
}

function toBigInt(value: Int64): bigint {
  if (value == null) return 0n;
  return typeof value === 'number' ? BigInt(value) : BigInt(value.toString());
}

function hex(bytes: Uint8Array | null): string {
  return bytes ? Buffer.from(bytes).toString('hex') : '';
}

function firstValues(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(metadata.getMap())) {
    out[key] = Buffer.isBuffer(values) ? values.toString('base64') : String(values);
  }
  return out;
}
