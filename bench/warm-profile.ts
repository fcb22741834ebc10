/**
 * Where a warm invocation's time goes, setup by setup, in the benchmark's conditions: the no-op
 * function on the real runtime client, frozen between invocations, the setups taking turns (so each
 * thaws with caches the others cooled). Linux `perf` samples the runtime processes (all threads,
 * with call chains) while they run; V8's perf map (`--perf-basic-prof
 * --interpreted-frames-native-stack`) names the JavaScript frames, and this layer is built
 * unminified for the run, so its functions keep their names.
 *
 * It prints, per setup, the CPU time per invocation (as the benchmark reads it) and the samples per
 * invocation by category (the layer's JavaScript, the runtime client, Node's core, GC, the kernel,
 * V8's compiler threads), each also as the difference from no tracing; then the layer's functions
 * by inclusive samples, to show which step to cut. The profiler's own cost inflates every figure
 * (more at higher `--frequency`): compare setups within one run, not with the benchmark's table.
 *
 * Needs `perf` (Debian: `apt-get install linux-perf`) and the right to profile the processes.
 *
 * `--variant NAME=JSON` (repeatable) adds a setup: this layer as `ours-udp` runs it, with JSON's
 * variables added (e.g. `sampled-off={"OTEL_TRACES_SAMPLER":"always_off"}`), to split the layer's
 * cost by what it turns off.
 *
 * Usage: node build/bench/warm-profile.js [--setups ours-udp,adot --warm 300 --frequency 4000
 *   --top 30 --runtime nodejs24.x --variant NAME=JSON]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalFunction } from '../src/local/lambda-process.js';
import type { RuntimeName } from '../src/local/runtime-entries.js';
import { traceHeader } from '../test/helpers/traced-function.js';
import { cpuMs, prepareTaskRoot } from './lib/measure.js';
import { ensurePeer, type InstalledPeer, type PeerName } from './lib/peers.js';
import {
  byCategory,
  CATEGORIES,
  layerFunctions,
  type PerfSample,
  parsePerfScript,
} from './lib/perf-samples.js';
import { allSetups, layerHasDaemonExporter, type Setup, type SetupContext } from './lib/setups.js';
import { SpanSinks } from './lib/span-sinks.js';
import { median } from './lib/stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    setups: { type: 'string', default: 'ours-udp,adot' },
    warm: { type: 'string', default: '300' },
    frequency: { type: 'string', default: '4000' },
    top: { type: 'string', default: '30' },
    runtime: { type: 'string', default: 'nodejs24.x' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
const warm = Number(values.warm);
const frequency = Number(values.frequency);
const runtime = values.runtime as RuntimeName;
const work = path.join(repoRoot, '.tmp/bench/warm-profile');
const perfData = path.join(work, 'perf.data');

const perfVersion = spawnSync('perf', ['--version'], { encoding: 'utf8' });
if (perfVersion.status !== 0) {
  console.error('warm-profile needs Linux perf on PATH (Debian: apt-get install linux-perf).');
  process.exit(2);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const built = spawnSync(process.execPath, ['layer/build.mjs', '--out', work, '--no-minify'], {
  cwd: repoRoot,
  stdio: 'inherit',
});
if (built.status !== 0) process.exit(1);
const layerDir = path.join(work, 'layer');

const wanted = [
  'baseline',
  ...values.setups.split(',').filter((id) => id !== 'baseline' && id !== ''),
  ...values.variant.map((variant) => variant.slice(0, variant.indexOf('='))),
];
const known = [...allSetups(layerHasDaemonExporter())];
const ours = known.find((s) => s.id === 'ours-udp');
for (const variant of values.variant) {
  const at = variant.indexOf('=');
  if (at <= 0 || ours === undefined)
    throw new Error(`--variant wants NAME=JSON (and the ours-udp setup): ${variant}`);
  const extra = JSON.parse(variant.slice(at + 1)) as Record<string, string>;
  known.push({
    ...ours,
    id: variant.slice(0, at),
    label: `${ours.label} with ${variant.slice(at + 1)}`,
    launch: (context) => {
      const launch = ours.launch(context);
      return { ...launch, env: { ...launch.env, ...extra } };
    },
  });
}
const setups = wanted.map((id) => {
  const setup = known.find((s) => s.id === id);
  if (!setup) throw new Error(`unknown setup ${id}; known: ${known.map((s) => s.id).join(', ')}`);
  return setup;
});
const peers: Partial<Record<PeerName, InstalledPeer>> = {};
for (const name of new Set(setups.flatMap((s) => (s.peer ? [s.peer] : [])))) {
  peers[name] = await ensurePeer(repoRoot, name, console.log);
}

const sinks = await SpanSinks.start();
const emptyOptDir = path.join(work, 'empty-opt');
mkdirSync(emptyOptDir);
const context: SetupContext = {
  sinks,
  layerDir,
  layerZip: path.join(work, 'layer.zip'),
  emptyOptDir,
  peers,
};

interface Profiled {
  setup: Setup;
  fn: LocalFunction;
  taskRoot: string;
  /** Whether a file (as V8 names it) is the setup's own code: its /opt, or its peer's packages. */
  isOwn: (file: string) => boolean;
  cpu: number[];
}

const runs: Profiled[] = [];
try {
  for (const setup of setups) {
    const launch = setup.launch(context);
    const taskRoot = prepareTaskRoot(repoRoot, 'noop', setup, context);
    const fn = await LocalFunction.start({
      runtime,
      taskRoot,
      handler: `${setup.handlerFile}.handler`,
      functionName: 'bench-noop',
      memoryMb: 128,
      optDir: launch.optDir,
      env: {
        ...sinks.lambdaTracingEnv,
        NODE_OPTIONS: '--perf-basic-prof --interpreted-frames-native-stack',
        ...launch.env,
      },
      ...(launch.execWrapper ? { execWrapper: launch.execWrapper } : {}),
    });
    const roots = [launch.optDir, setup.peer ? peers[setup.peer]?.nodeModules : undefined]
      .filter((dir): dir is string => dir !== undefined && setup.id !== 'baseline')
      .map((dir) => `${realpathSync(dir)}/`);
    const isOwn = (file: string) => {
      const plain = file.startsWith('file://') ? fileURLToPath(file) : file;
      return roots.some((root) => plain.startsWith(root));
    };
    runs.push({ setup, fn, taskRoot, isOwn, cpu: [] });
  }

  const invoke = async (run: Profiled, record: boolean) => {
    const before = cpuMs(run.fn.pid);
    const result = await run.fn.invoke({}, { traceHeader: traceHeader(true).header });
    if (result.status !== 'success') throw new Error(`${run.setup.id}: invocation ${result.status}`);
    if (record) run.cpu.push(cpuMs(run.fn.pid) - before);
  };
  // Past the cold start and the first warm invocations, as the benchmark's warm p50 is.
  for (let i = 0; i < 5; i++) for (const run of runs) await invoke(run, false);

  const perf = spawn(
    'perf',
    ['record', '-g', '-F', String(frequency), '-o', perfData, '-p', runs.map((r) => r.fn.pid).join(',')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let perfOutput = '';
  perf.stderr.on('data', (chunk: Buffer) => {
    perfOutput += chunk.toString();
  });
  // perf stops on SIGINT, writes its file, and may leave by the same signal.
  const perfExited = new Promise<boolean>((resolve) =>
    perf.once('exit', (code, signal) => resolve(code === 0 || signal === 'SIGINT')),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000)); // perf attaches to every thread
  for (let i = 0; i < warm; i++) for (const run of runs) await invoke(run, true);
  perf.kill('SIGINT');
  if (!(await perfExited)) throw new Error(`perf record failed: ${perfOutput.trim()}`);

  const lines: string[] = [
    `Warm invocations of the no-op function, ${warm} per setup in turns, perf at ${frequency} Hz with call chains (${new Date().toISOString()}).`,
    'Samples are per invocation, converted to ms at the sampling rate; "added" is over no tracing.',
    '',
    `| category | ${runs.map((r) => r.setup.id).join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
  ];
  const samplesOf = new Map<Profiled, PerfSample[]>();
  for (const run of runs) {
    const script = spawnSync(
      'perf',
      ['script', '-i', perfData, '--pid', String(run.fn.pid), '-F', 'comm,pid,tid,ip,sym,dso'],
      { encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    samplesOf.set(run, parsePerfScript(script.stdout));
  }
  const ms = (samples: number) => (samples / frequency / warm) * 1000;
  const categories = new Map(runs.map((run) => [run, byCategory(samplesOf.get(run) ?? [], run.isOwn)]));
  const base = categories.get(runs[0] as Profiled);
  const cell = (value: number, baseValue: number, isBase: boolean) =>
    isBase
      ? value.toFixed(3)
      : `${value.toFixed(3)} (${value - baseValue >= 0 ? '+' : ''}${(value - baseValue).toFixed(3)})`;
  lines.push(
    `| CPU time p50 (schedstat), ms | ${runs.map((r, i) => cell(median(r.cpu), median(runs[0]?.cpu ?? []), i === 0)).join(' | ')} |`,
  );
  for (const category of CATEGORIES) {
    const row = runs.map((run, i) =>
      cell(ms(categories.get(run)?.get(category) ?? 0), ms(base?.get(category) ?? 0), i === 0),
    );
    lines.push(`| ${category} | ${row.join(' | ')} |`);
  }
  const total = (run: Profiled) => samplesOf.get(run)?.length ?? 0;
  lines.push(
    `| all samples | ${runs.map((r, i) => cell(ms(total(r)), ms(total(runs[0] as Profiled)), i === 0)).join(' | ')} |`,
  );
  for (const run of runs.slice(1)) {
    lines.push('', `${run.setup.label}: its functions by inclusive samples, ms per invocation`, '');
    lines.push('| function | ms |', '|---|---:|');
    for (const [key, count] of layerFunctions(samplesOf.get(run) ?? [], run.isOwn).slice(
      0,
      Number(values.top),
    )) {
      lines.push(`| ${key} | ${ms(count).toFixed(3)} |`);
    }
  }
  const report = `${lines.join('\n')}\n`;
  writeFileSync(path.join(work, 'report.md'), report);
  console.log(report);
  console.log(
    `Written to ${path.relative(repoRoot, path.join(work, 'report.md'))}; samples in ${path.relative(repoRoot, perfData)}.`,
  );
} finally {
  for (const run of runs) {
    await run.fn.stop();
    rmSync(run.taskRoot, { recursive: true, force: true });
    rmSync(`/tmp/perf-${run.fn.pid}.map`, { force: true });
  }
  await sinks.close();
}
