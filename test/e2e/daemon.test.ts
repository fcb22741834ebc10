import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { XRaySegmentDocument } from '../../src/xray/segment-types.js';
import { LAYER_DIR, startFunction, traceHeader } from '../helpers/traced-function.js';
import { assertValidDocument } from '../unit/xray/helpers.js';

const HEADER = '{"format":"json","version":1}\n';

/** A stand-in for the X-Ray daemon: a real UDP socket on 127.0.0.1 that keeps every datagram. */
class DaemonListener {
  readonly datagrams: string[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (message) => {
      this.datagrams.push(message.toString('utf8'));
      for (const wake of this.waiters) wake();
    });
  }

  static async start(): Promise<DaemonListener> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new DaemonListener(socket);
  }

  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  /** Every document received, each checked to arrive behind the daemon's header line. */
  get documents(): XRaySegmentDocument[] {
    return this.datagrams.map((datagram) => {
      assert.ok(datagram.startsWith(HEADER), `datagram without the daemon header: ${datagram.slice(0, 80)}`);
      return JSON.parse(datagram.slice(HEADER.length)) as XRaySegmentDocument;
    });
  }

  /** Resolves with the documents of `traceId` once `count` of them arrived. */
  waitForTrace(traceId: string, count: number, timeoutMs = 5000): Promise<XRaySegmentDocument[]> {
    const ofTrace = () => this.documents.filter((d) => d.trace_id === traceId);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (ofTrace().length < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(ofTrace());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${ofTrace().length} of ${count} documents for ${traceId} arrived`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** `Root=1-5f84c7a0-…` as X-Ray writes the trace ID of an OTel trace ID. */
function xrayTraceId(otelTraceId: string): string {
  return `1-${otelTraceId.slice(0, 8)}-${otelTraceId.slice(8)}`;
}

describe('OTEL_TRACES_EXPORTER=xray: straight to the X-Ray daemon over UDP', () => {
  let daemon: DaemonListener;
  before(async () => {
    daemon = await DaemonListener.start();
  });
  after(() => daemon.close());

  test("schema-valid segment documents, in Lambda's trace, under Lambda's segment, before the freeze", async () => {
    const fn = await startFunction({
      runtime: 'nodejs24.x',
      fixture: 'cjs',
      functionName: 'orders-api',
      env: { OTEL_TRACES_EXPORTER: 'xray', AWS_XRAY_DAEMON_ADDRESS: daemon.address },
    });
    try {
      const header = traceHeader(true);
      const result = await fn.invoke({}, { traceHeader: header.header });
      assert.equal(result.status, 'success', fn.output());
      assert.ok(fn.frozen);
      const documents = await daemon.waitForTrace(xrayTraceId(header.traceId), 2);
      for (const document of documents) assertValidDocument(document);

      const segment = documents.find((d) => d.type === undefined);
      assert.ok(segment, `no segment among ${JSON.stringify(documents)}`);
      assert.equal(segment.name, 'orders-api');
      assert.equal(segment.parent_id, header.parentId, "the segment's parent is Lambda's own segment");
      assert.equal(segment.origin, 'AWS::Lambda::Function');
      assert.equal(segment.fault, false);
      // The default indexed attributes are the collector configuration's: same annotations either way.
      assert.equal(segment.annotations?.faas_trigger, 'other');
      assert.equal(segment.annotations?.faas_coldstart, true);
      assert.equal(segment.metadata?.default?.['faas.invocation_id'], result.requestId);

      const manual = documents.find((d) => d.name === 'manual-work');
      assert.ok(manual, 'no subsegment for the manual span');
      assert.equal(manual.type, 'subsegment');
      assert.equal(manual.parent_id, segment.id);
      assert.ok((manual.end_time ?? 0) >= manual.start_time);

      // A failing invocation: a fault with its exception, and the runtime still gets the error.
      const failing = traceHeader(true);
      const failed = await fn.invoke({ action: 'throw', orderId: 7 }, { traceHeader: failing.header });
      assert.equal(failed.status, 'error');
      assert.equal(failed.error?.errorMessage, 'bad order 7');
      const [faulty] = (await daemon.waitForTrace(xrayTraceId(failing.traceId), 2)).filter(
        (d) => d.type === undefined,
      );
      assertValidDocument(faulty);
      assert.equal(faulty?.fault, true);
      assert.equal(faulty?.annotations?.faas_coldstart, false);
      assert.equal(faulty?.cause?.exceptions?.[0]?.message, 'bad order 7');
      // The SDK records an error's `code`, when it has one, as the exception type.
      assert.equal(faulty?.cause?.exceptions?.[0]?.type, 'E_ORDER');

      // Sampled=0: nothing is sent.
      const unsampled = traceHeader(false);
      const before = daemon.datagrams.length;
      assert.equal((await fn.invoke({}, { traceHeader: unsampled.header })).status, 'success');
      const sampled = traceHeader(true);
      await fn.invoke({}, { traceHeader: sampled.header });
      await daemon.waitForTrace(xrayTraceId(sampled.traceId), 2);
      assert.equal(daemon.datagrams.length - before, 2, 'only the sampled invocation sent documents');
    } finally {
      await fn.cleanup();
    }
  });

  test('annotations follow OTEL_LAMBDA_XRAY_INDEXED_ATTRIBUTES; no daemon listening costs nothing', async () => {
    const nobody = await DaemonListener.start();
    const closedAddress = nobody.address;
    await nobody.close(); // a port where nothing listens: datagrams are lost, nothing else happens
    const silent = await startFunction({
      runtime: 'nodejs22.x',
      fixture: 'cjs',
      env: { OTEL_TRACES_EXPORTER: 'xray', AWS_XRAY_DAEMON_ADDRESS: closedAddress },
    });
    const custom = await startFunction({
      runtime: 'nodejs22.x',
      fixture: 'cjs',
      env: {
        OTEL_TRACES_EXPORTER: 'xray',
        AWS_XRAY_DAEMON_ADDRESS: daemon.address,
        OTEL_LAMBDA_XRAY_INDEXED_ATTRIBUTES: 'faas.invocation_id',
      },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const result = await silent.invoke({}, { traceHeader: traceHeader(true).header });
        assert.equal(result.status, 'success', silent.output());
        assert.equal((result.payload as { ok: boolean }).ok, true);
        // A lost datagram is not waited for: far below the 500 ms flush bound.
        assert.ok(result.durationMs < 250, `invocation took ${result.durationMs} ms`);
      }
      assert.doesNotMatch(silent.output(), /error|could not export/i);

      const header = traceHeader(true);
      const result = await custom.invoke({}, { traceHeader: header.header });
      const documents = await daemon.waitForTrace(xrayTraceId(header.traceId), 2);
      const segment = documents.find((d) => d.type === undefined);
      assert.deepEqual(segment?.annotations, { faas_invocation_id: result.requestId });
      assert.equal(segment?.metadata?.default?.['faas.trigger'], 'other');
    } finally {
      await silent.cleanup();
      await custom.cleanup();
    }
  });
});

/**
 * The built layer as Lambda would merge it into /opt with other layers' extensions beside it: the
 * layer's files linked, `extensions/` holding empty files of the names given.
 */
function layerWithExtensions(names: readonly string[]): string {
  const opt = mkdtempSync(path.join(tmpdir(), 'opt-'));
  for (const entry of ['otel-handler', 'otel-lambda-xray', 'nodejs']) {
    symlinkSync(path.join(LAYER_DIR, entry), path.join(opt, entry));
  }
  mkdirSync(path.join(opt, 'extensions'));
  for (const name of names) writeFileSync(path.join(opt, 'extensions', name), '', { mode: 0o755 });
  return opt;
}

describe('with OTEL_TRACES_EXPORTER unset, the collector extension decides', () => {
  let daemon: DaemonListener;
  before(async () => {
    daemon = await DaemonListener.start();
  });
  after(() => daemon.close());

  /**
   * Runs the cjs fixture through the layer with `extensions` beside it and active tracing's
   * variable only; invokes it once with a sampled header (it must succeed) and hands `check` the
   * function and the invocation's X-Ray trace ID.
   */
  async function invokeWith(
    extensions: readonly string[],
    check: (fn: Awaited<ReturnType<typeof startFunction>>, traceId: string) => Promise<void>,
  ): Promise<void> {
    const opt = layerWithExtensions(extensions);
    const fn = await startFunction({
      runtime: 'nodejs24.x',
      fixture: 'cjs',
      traced: false,
      optDir: opt,
      execWrapper: path.join(opt, 'otel-handler'),
      env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address, OTEL_LOG_LEVEL: 'debug' },
    });
    try {
      const header = traceHeader(true);
      const result = await fn.invoke({}, { traceHeader: header.header });
      assert.equal(result.status, 'success', fn.output());
      await check(fn, xrayTraceId(header.traceId));
    } finally {
      await fn.cleanup();
      rmSync(opt, { recursive: true, force: true });
    }
  }

  test('no collector: segments go to the X-Ray daemon before the freeze', () =>
    invokeWith([], async (fn, traceId) => {
      const documents = await daemon.waitForTrace(traceId, 2);
      assert.deepEqual(documents.map((d) => d.name).sort(), ['fixture-cjs', 'manual-work']);
      assert.match(
        fn.output(),
        /spans go to the X-Ray daemon at 127\.0\.0\.1:\d+ \(no collector extension \(\/\S+\/extensions\/collector\) and no OTEL_EXPORTER_OTLP_\* variable\)/,
      );
      assert.doesNotMatch(fn.output(), /WARN|ERROR/);
    }));

  test('the collector extension installed: OTLP to it, nothing to the daemon', () =>
    invokeWith(['collector'], async (fn, traceId) => {
      assert.match(
        fn.output(),
        /spans go over OTLP \(http\/protobuf\) to http:\/\/localhost:4318\/v1\/traces \(the collector extension/,
      );
      // Spans leave before the response: had they gone to the daemon, they would be here already.
      assert.equal(daemon.documents.filter((d) => d.trace_id === traceId).length, 0);
    }));

  test('another extension, none named collector: the daemon, and one notice naming them', () =>
    invokeWith(['telemetry-agent'], async (fn, traceId) => {
      assert.equal((await daemon.waitForTrace(traceId, 2)).length, 2);
      const notices = fn
        .output()
        .match(
          /found telemetry-agent\) and no OTEL_EXPORTER_OTLP_\* variable: spans go to the X-Ray daemon at [^;]+; set OTEL_TRACES_EXPORTER=otlp/g,
        );
      assert.equal(notices?.length, 1, fn.output());
    }));
});
