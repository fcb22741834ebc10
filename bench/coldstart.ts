/**
 * Cold-start cost of the layer: the same no-op function started with and without the layer, in
 * alternating rounds so a busy machine treats both alike, on the real runtime client with a local
 * OTLP receiver. Cold start = process spawn to the first response, which includes the layer's
 * first export (Lambda freezes the process right after the response, so that export is part of it).
 *
 * Usage: npm run bench:coldstart [-- --rounds 9 --runtime nodejs24.x --exporter otlp,grpc,xray]
 * (`--exporter` lists the exporters to compare, each a setup of its own in the same rounds: `otlp`
 * (the default protocol, OTLP/HTTP) and `grpc` to the local OTLP receiver, `xray` to a local UDP
 * listener standing in for the X-Ray daemon).
 */
import { createSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LocalFunction } from '../src/local/lambda-process.js';
import type { RuntimeName } from '../src/local/runtime-entries.js';
import { OtlpReceiver } from '../test/helpers/otlp-receiver.js';
import { EXEC_WRAPPER, LAYER_DIR, prepareTaskRoot, traceHeader } from '../test/helpers/traced-function.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    warm: { type: 'string', default: '20' },
    runtime: { type: 'string', default: 'nodejs24.x' },
    exporter: { type: 'string', default: 'otlp' },
  },
});
type Exporter = 'otlp' | 'grpc' | 'xray';
type Setup = 'baseline' | Exporter;
const exporters = [...new Set(values.exporter.split(',').map((e) => e.trim()))].filter(
  (e): e is Exporter => e === 'otlp' || e === 'grpc' || e === 'xray',
);
if (exporters.length === 0)
  throw new Error(`--exporter takes otlp, grpc and/or xray, not ${values.exporter}`);
const rounds = Number(values.rounds);
const warmInvocations = Number(values.warm);
const runtime = values.runtime as RuntimeName;

interface Sample {
  coldMs: number;
  initMs: number;
  warmMs: number[];
  spans: number;
}

async function measure(setup: Setup, receiver: OtlpReceiver): Promise<Sample> {
  const traced = setup !== 'baseline';
  const exporter: Exporter = setup === 'baseline' ? 'otlp' : setup;
  const taskRoot = prepareTaskRoot('noop', 'none');
  const before = receivedSpans(receiver, exporter);
  const started = performance.now();
  const fn = await LocalFunction.start({
    runtime,
    taskRoot,
    handler: 'index.handler',
    optDir: LAYER_DIR,
    env: exporterEnv(receiver, exporter),
    ...(traced ? { execWrapper: EXEC_WRAPPER } : {}),
  });
  try {
    const first = await fn.invoke({}, { traceHeader: traceHeader(true).header });
    const coldMs = performance.now() - started;
    if (first.status !== 'success') throw new Error(`cold invocation failed: ${fn.output()}`);
    const warmMs: number[] = [];
    for (let i = 0; i < warmInvocations; i++) {
      const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
      warmMs.push(result.durationMs);
    }
    return { coldMs, initMs: fn.initDurationMs, warmMs, spans: receivedSpans(receiver, exporter) - before };
  } finally {
    await fn.stop();
    rmSync(taskRoot, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const fmt = (ms: number): string => ms.toFixed(1);

// The X-Ray daemon stand-in: one datagram per span.
const daemon = createSocket('udp4');
let datagrams = 0;
daemon.on('message', () => datagrams++);
await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
daemon.unref();

function exporterEnv(receiver: OtlpReceiver, exporter: Exporter): Record<string, string> {
  if (exporter === 'otlp') return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint };
  if (exporter === 'grpc')
    return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  return { OTEL_TRACES_EXPORTER: 'xray', AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}` };
}

function receivedSpans(receiver: OtlpReceiver, exporter: Exporter): number {
  return exporter === 'xray' ? datagrams : receiver.spans.length;
}

const receiver = await OtlpReceiver.start();
const setups: Setup[] = ['baseline', ...exporters];
const samples: Record<Setup, Sample[]> = { baseline: [], otlp: [], grpc: [], xray: [] };
try {
  // One unmeasured round of each warms the file cache, as a function's second deploy would.
  for (const setup of setups) await measure(setup, receiver);
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first so drift on the machine does not favour one.
    const order = setups.map((_, i) => setups[(i + round) % setups.length] as Setup);
    for (const setup of order) samples[setup].push(await measure(setup, receiver));
  }
} finally {
  await receiver.close();
  daemon.close();
}

const summary = (setup: Setup) => {
  const cold = samples[setup].map((s) => s.coldMs);
  return {
    cold: median(cold),
    min: Math.min(...cold),
    max: Math.max(...cold),
    init: median(samples[setup].map((s) => s.initMs)),
    warm: median(samples[setup].flatMap((s) => s.warmMs)),
    spans: median(samples[setup].map((s) => s.spans)),
  };
};
const base = summary('baseline');
const NAMES: Record<Setup, string> = {
  baseline: 'no layer',
  otlp: 'otel-lambda-xray, OTLP/HTTP (with a collector)',
  grpc: 'otel-lambda-xray, OTLP/gRPC',
  xray: 'otel-lambda-xray, X-Ray daemon (UDP, the default without a collector)',
};
console.log(`cold start, ${runtime}, no-op handler, ${rounds} alternating rounds (median [min-max], ms)`);
console.log('| setup | cold start | init | warm p50 | spans exported | added cold start |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const setup of setups) {
  const s = summary(setup);
  const added =
    setup === 'baseline' ? '' : `+${fmt(s.cold - base.cold)} (x${(s.cold / base.cold).toFixed(2)})`;
  console.log(
    `| ${NAMES[setup]} | ${fmt(s.cold)} [${fmt(s.min)}-${fmt(s.max)}] | ${fmt(s.init)} | ${fmt(s.warm)} | ${s.spans} | ${added} |`,
  );
}
for (const exporter of exporters) {
  const s = summary(exporter);
  console.log(
    `${exporter}: added cold start ${fmt(s.cold - base.cold)} ms; added warm p50 ${fmt(s.warm - base.warm)} ms`,
  );
}
