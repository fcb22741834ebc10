/**
 * The side-by-side benchmark: this layer against no tracing and against its peers (the ADOT layer, the
 * OpenTelemetry layer's auto-instrumentation, the legacy X-Ray SDK), on the same local Lambda (real
 * runtime client, Runtime API emulator, process frozen between invocations), in rounds where the warm
 * invocations go round the setups one at a time, so that a noisy machine treats every setup alike.
 * Two functions: a no-op, and a realistic HTTP API handler that queries Postgres (Sequelize and pg),
 * calls an HTTP service and sends to SQS. Writes bench/results.md and bench/results.svg.
 *
 * Usage: npm run bench [-- --rounds 5 --warm 30 --runtime nodejs24.x --memory 128 --setups ours,adot
 *   --handlers noop,app --out DIR --short]
 * `--short` is one round of a few invocations, without installing peers that are not there yet.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RuntimeName } from '../src/local/runtime-entries.js';
import { resolveRuntime } from '../src/local/runtime-entries.js';
import { type HandlerKind, measureRound, type RunOptions, type RunSample } from './lib/measure.js';
import { ensurePeer, type InstalledPeer, isInstalled, type PeerName } from './lib/peers.js';
import {
  chartSvg,
  cpuTable,
  handlerTable,
  type RunInfo,
  resultsMarkdown,
  type Summary,
  sameExportTable,
  sizeTable,
  summarise,
} from './lib/report.js';
import { roundOrder } from './lib/round-order.js';
import { postgresProblem, type Services, startServices } from './lib/services.js';
import { FOOTNOTES } from './lib/setup-notes.js';
import { allSetups, layerHasDaemonExporter, type Setup, type SetupContext } from './lib/setups.js';
import { SpanSinks } from './lib/span-sinks.js';
import { median } from './lib/stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    warm: { type: 'string', default: '30' },
    runtime: { type: 'string', default: 'nodejs24.x' },
    memory: { type: 'string', default: '128' },
    setups: { type: 'string' },
    handlers: { type: 'string', default: 'noop,app' },
    out: { type: 'string', default: path.join(repoRoot, 'bench') },
    short: { type: 'boolean', default: false },
  },
});
const short = values.short ?? false;
const rounds = short ? 1 : Number(values.rounds);
const warm = short ? 3 : Number(values.warm);
const runtime = values.runtime as RuntimeName;
const memoryMb = Number(values.memory);
const log = (line: string) => console.log(line);

const layerDir = process.env.LAYER_DIR ?? path.join(repoRoot, '.tmp/bench/layer');
const notes: string[] = [];

// Which setups: every one, less this layer's UDP path when the checkout has no such exporter, less
// (in --short) the peers not installed yet.
const daemon = layerHasDaemonExporter();
if (!daemon)
  notes.push(
    "This checkout's layer has no X-Ray daemon exporter (`OTEL_TRACES_EXPORTER` accepts no `xray`): its UDP row is skipped.",
  );
const wanted = values.setups ? new Set(['baseline', ...values.setups.split(',')]) : undefined;
let setups = allSetups(daemon).filter((s) => !wanted || wanted.has(s.id));
if (short) {
  const skipped = setups.filter((s) => s.peer && !isInstalled(repoRoot, s.peer));
  if (skipped.length)
    notes.push(`--short: peers not installed, skipped: ${skipped.map((s) => s.id).join(', ')}.`);
  setups = setups.filter((s) => !skipped.includes(s));
}
const peers: Partial<Record<PeerName, InstalledPeer>> = {};
for (const name of new Set(setups.flatMap((s) => (s.peer ? [s.peer] : [])))) {
  peers[name] = await ensurePeer(repoRoot, name, log);
}

let handlers = values.handlers.split(',') as HandlerKind[];
let services: Services | undefined;
if (handlers.includes('app')) {
  const problem = await postgresProblem();
  if (problem) {
    const message = `Realistic handler skipped: Postgres at 127.0.0.1:5432 (user postgres, db test) is unreachable: ${problem}`;
    console.error(message);
    notes.push(message);
    handlers = handlers.filter((h) => h !== 'app');
  } else {
    services = await startServices();
  }
}

const sinks = await SpanSinks.start();
const emptyOptDir = mkdtempSync(path.join(os.tmpdir(), 'bench-opt-'));
const context: SetupContext = {
  sinks,
  layerDir,
  layerZip: path.join(path.dirname(layerDir), 'layer.zip'),
  emptyOptDir,
  peers,
};
const options = (handler: HandlerKind): RunOptions => ({
  repoRoot,
  runtime,
  warm,
  memoryMb,
  env: {
    ...sinks.lambdaTracingEnv,
    ...(handler === 'app' ? (services?.env ?? {}) : {}),
  },
});

const samples = new Map<string, RunSample[]>();
const key = (handler: HandlerKind, setup: Setup) => `${handler}/${setup.id}`;
try {
  if (!short) {
    // One unmeasured round, so every setup meets a warm file cache, as a redeployed function would.
    log('warm-up: one unmeasured round of every setup');
    for (const handler of handlers)
      await measureRound(setups, handler, context, { ...options(handler), warm: 1 });
  }
  for (let round = 0; round < rounds; round++) {
    for (const handler of handlers) {
      // A new order each round: no setup always starts first, or always right after the same one.
      const order = roundOrder(setups, round);
      const roundSamples = await measureRound(order, handler, context, options(handler));
      order.forEach((setup, k) => {
        const sample = roundSamples[k] as RunSample;
        samples.set(key(handler, setup), [...(samples.get(key(handler, setup)) ?? []), sample]);
        log(describeRun(round, handler, setup, sample));
      });
    }
  }
} finally {
  await sinks.close();
  await services?.close();
}

const byHandler = new Map<HandlerKind, Summary[]>();
for (const handler of handlers) {
  byHandler.set(
    handler,
    setups.map((setup) => summarise(setup, samples.get(key(handler, setup)) ?? [])),
  );
}
const install = resolveRuntime(runtime);
const info: RunInfo = {
  date: new Date().toISOString(),
  nproc: os.availableParallelism(),
  cpu: os.cpus()[0]?.model ?? 'unknown CPU',
  loadAverage: os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' '),
  hostNode: process.version,
  runtime,
  runtimeNode: install.nodeVersion,
  ric: install.ricVersion,
  memoryMb,
  rounds,
  warm,
  notes: [
    ...notes,
    `Peers: ${Object.values(peers)
      .map((p) =>
        Object.entries(p.versions)
          .map(([name, version]) => `${name}@${version}`)
          .join(', '),
      )
      .join('; ')}.`,
  ],
};
// Say so when a setup exported nothing for a function where others did: a cost without spans is not a saving.
for (const [handler, summaries] of byHandler) {
  const anySpans = summaries.some((s) => s.spansPerInvocation > 0);
  for (const s of summaries) {
    if (anySpans && s.rounds > 0 && s.setup.id !== 'baseline' && s.spansPerInvocation === 0) {
      info.notes.push(
        `${s.setup.label} exported no span at all for the ${handler === 'noop' ? 'no-op' : 'realistic'} handler, before the freeze or after.`,
      );
    }
  }
}
const titles: Record<HandlerKind, string> = {
  noop: 'No-op handler',
  app: 'Realistic handler (HTTP API v2 event; Sequelize + pg on Postgres, axios to a local HTTP service, SQS SendMessage)',
};
const tables = handlers.map((h) => {
  const summaries = byHandler.get(h) ?? [];
  return [handlerTable(titles[h], summaries), sameExportTable(summaries), cpuTable(summaries)]
    .filter(Boolean)
    .join('\n\n');
});
const sizes = sizeTable(
  setups.flatMap((setup) => {
    const footprint = setup.footprint(context);
    return footprint ? [{ setup, footprint }] : [];
  }),
);
const markdown = resultsMarkdown(info, tables, sizes, setups, FOOTNOTES);
console.log(`\n${tables.join('\n\n')}\n\n${sizes}\n`);
for (const summary of [...byHandler.values()].flat()) {
  for (const failure of summary.failures.slice(0, 1)) console.error(`${summary.setup.id} failed: ${failure}`);
}
mkdirSync(values.out, { recursive: true });
writeFileSync(path.join(values.out, 'results.md'), markdown);
writeFileSync(
  path.join(values.out, 'results.svg'),
  chartSvg(byHandler, `Cost over no tracing, ${runtime}, ${memoryMb} MB, medians of ${rounds} round(s)`),
);
log(`wrote ${path.join(values.out, 'results.md')} and results.svg`);
// local-aws-sqs and the gRPC receiver may leave handles behind; the figures are written.
process.exit(0);

function describeRun(round: number, handler: HandlerKind, setup: Setup, s: RunSample): string {
  const head = `round ${round + 1}/${rounds} ${handler.padEnd(4)} ${setup.id.padEnd(12)}`;
  if (s.error) return `${head} FAILED: ${s.error.split('\n')[0]}`;
  return `${head} cold ${s.coldMs.toFixed(0)} ms, init ${s.initMs.toFixed(0)} ms, warm p50 ${median(s.warmMs).toFixed(2)} ms (CPU ${median(s.warmCpuMs).toFixed(2)} ms), RSS ${s.rssMiB.toFixed(0)} MiB, spans ${(s.spans / s.invocations).toFixed(1)}/inv`;
}
