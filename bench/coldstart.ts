/**
 * Cold-start cost of the layer: the same no-op function started with and without the layer, in
 * alternating rounds so a busy machine treats both alike, on the real runtime client with a local
 * OTLP/gRPC receiver. Cold start = process spawn to the first response, which includes the layer's
 * first export (Lambda freezes the process right after the response, so that export is part of it).
 *
 * Usage: npm run bench:coldstart [-- --rounds 9 --runtime nodejs24.x]
 */
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
  },
});
const rounds = Number(values.rounds);
const warmInvocations = Number(values.warm);
const runtime = values.runtime as RuntimeName;

interface Sample {
  coldMs: number;
  initMs: number;
  warmMs: number[];
  spans: number;
}

async function measure(traced: boolean, receiver: OtlpReceiver): Promise<Sample> {
  const taskRoot = prepareTaskRoot('noop', 'none');
  const before = receiver.spans.length;
  const started = performance.now();
  const fn = await LocalFunction.start({
    runtime,
    taskRoot,
    handler: 'index.handler',
    optDir: LAYER_DIR,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
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
    return { coldMs, initMs: fn.initDurationMs, warmMs, spans: receiver.spans.length - before };
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

const receiver = await OtlpReceiver.start();
const samples: Record<'baseline' | 'layer', Sample[]> = { baseline: [], layer: [] };
try {
  // One unmeasured round of each warms the file cache, as a function's second deploy would.
  await measure(false, receiver);
  await measure(true, receiver);
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first so drift on the machine does not favour one.
    const order: Array<'baseline' | 'layer'> = round % 2 ? ['layer', 'baseline'] : ['baseline', 'layer'];
    for (const setup of order) samples[setup].push(await measure(setup === 'layer', receiver));
  }
} finally {
  await receiver.close();
}

const summary = (setup: 'baseline' | 'layer') => {
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
const layer = summary('layer');
console.log(`cold start, ${runtime}, no-op handler, ${rounds} alternating rounds (median [min-max], ms)`);
console.log('| setup | cold start | init | warm p50 | spans exported | added cold start |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, s] of [
  ['no layer', base],
  ['otel-lambda-xray', layer],
] as const) {
  const added = s === base ? '' : `+${fmt(s.cold - base.cold)} (x${(s.cold / base.cold).toFixed(2)})`;
  console.log(
    `| ${name} | ${fmt(s.cold)} [${fmt(s.min)}-${fmt(s.max)}] | ${fmt(s.init)} | ${fmt(s.warm)} | ${s.spans} | ${added} |`,
  );
}
console.log(
  `added cold start: ${fmt(layer.cold - base.cold)} ms; added warm p50: ${fmt(layer.warm - base.warm)} ms`,
);
