/**
 * The benchmark's span receivers, run as a process of their own (forked by {@link SpanSinks}). On
 * Lambda the collector is an extension process and the X-Ray daemon is outside the sandbox: neither
 * shares an event loop with the Runtime API. Here, receiving and decoding an export in the runner's
 * process delayed its handling of the function's `/response` and `/next`, and so was timed into
 * every exporting setup's invocation.
 *
 * Receives: OTLP/gRPC (the tests' receiver), OTLP/HTTP, and daemon UDP datagrams. Answers
 * `collect` messages with what arrived since the last one, after reading whatever already waits
 * on its sockets.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeSpans, OtlpReceiver, type ReceivedSpan } from '../../test/helpers/otlp-receiver.js';
import { drainPendingIo } from '../../test/helpers/traced-function.js';
import type { ReceivedSummary, SinkReply, SinkRequest } from './span-sinks.js';

const pending: ReceivedSummary[] = [];
/**
 * What arrived and is not decoded yet. Decoding (protobufjs, JSON) waits for `collect`, which runs
 * while the function is frozen: done on arrival, it took a core the runner needed to time the
 * invocation (this machine has two, shared by the function, the runner and this process).
 */
const undecoded: (() => void)[] = [];

function addOtlp(spans: readonly ReceivedSpan[]): void {
  for (const span of spans) {
    pending.push({
      traceId: span.traceId,
      name: span.name,
      endMs: Number(span.endTimeUnixNano / 1_000_000n),
    });
  }
}

interface SegmentDocument {
  trace_id?: string;
  name?: string;
  end_time?: number;
  in_progress?: boolean;
  subsegments?: SegmentDocument[];
}

/**
 * A finished document is one span, and so is each subsegment embedded in it: the X-Ray SDK sends a
 * subsegment with the subsegments opened under it inside.
 */
function addDocument(document: SegmentDocument, traceId: string): void {
  if (!document.in_progress && document.end_time !== undefined) {
    pending.push({ traceId, name: document.name ?? '', endMs: document.end_time * 1000 });
  }
  for (const sub of document.subsegments ?? []) addDocument(sub, traceId);
}

/**
 * A daemon datagram: `{"format":"json","version":1}\n` then either an X-Ray segment document, or
 * (ADOT) `T1S`/`T1U` and a base64 OTLP protobuf request for sampled/unsampled spans.
 */
function addDatagram(datagram: Buffer): void {
  const text = datagram.toString('utf8');
  const body = text.slice(text.indexOf('\n') + 1);
  if (body.startsWith('T1U')) return; // Unsampled spans, kept by ADOT for metrics only.
  try {
    if (body.startsWith('T1S')) {
      addOtlp(decodeSpans(Buffer.from(body.slice(3), 'base64')));
      return;
    }
    const document = JSON.parse(body) as SegmentDocument;
    if (!document.trace_id) return;
    addDocument(document, document.trace_id.replace(/^1-/, '').replace('-', ''));
  } catch {
    // Not a document this benchmark understands: not counted, so the report shows it missing.
  }
}

const grpc = await OtlpReceiver.start({ answerFirst: true });
let grpcSeen = 0;
const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    // Answered at once (an empty ExportTraceServiceResponse; metrics and logs are acknowledged and
    // dropped), as a collector answers before its pipeline runs; decoded when collected. With a
    // Content-Length, as the collector's Go server sends an empty body (not chunked, Node's default).
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
    if (!req.url?.endsWith('/v1/traces')) return;
    const gzip = req.headers['content-encoding'] === 'gzip';
    undecoded.push(() => {
      try {
        const raw = Buffer.concat(chunks);
        addOtlp(decodeSpans(gzip ? gunzipSync(raw) : raw));
      } catch {
        // An undecodable request counts as no spans: the report shows them missing.
      }
    });
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const udp = createSocket('udp4');
await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
udp.on('message', (datagram) => undecoded.push(() => addDatagram(datagram)));

const send = (reply: SinkReply) => process.send?.(reply);

process.on('message', (request: SinkRequest) => {
  if (request.type === 'collect') {
    void drainPendingIo().then(() => {
      for (const decode of undecoded.splice(0)) decode();
      grpc.decodeAnswered();
      addOtlp(grpc.spans.slice(grpcSeen));
      grpcSeen = grpc.spans.length;
      send({ type: 'spans', spans: pending.splice(0) });
    });
  } else {
    void (async () => {
      await grpc.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      udp.close();
      process.disconnect?.();
    })();
  }
});
// The runner gone (crashed, killed): nothing left to serve.
process.on('disconnect', () => process.exit(0));

send({
  type: 'ready',
  grpcEndpoint: grpc.grpcEndpoint,
  httpPort: (http.address() as AddressInfo).port,
  udpPort: udp.address().port,
});
