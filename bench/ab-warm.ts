/**
 * Two builds of the layer, or one build under two configurations, compared on the warm cost of
 * the no-op function: in each of `--pairs` pairs of fresh processes, A and B take their
 * invocations in turns (each frozen between invocations, as the benchmark does), and each
 * invocation's CPU time (all threads of the runtime process, from schedstat) and wall time are
 * kept. Taking the two in turns cancels the machine's noise over time; fresh pairs cancel what
 * sticks to one process (where its memory landed): one pair of two copies of the same build has
 * measured up to 9% apart in CPU p50, the median of six pairs' differences within 2.5% (three runs
 * here). That median is the figure to read: a change to the warm path smaller than that is noise.
 *
 * Usage: node build/bench/ab-warm.js --a DIR --b DIR [--pairs 6 --invocations 150
 *   --runtime nodejs24.x --env-a JSON --env-b JSON --evict-mib 64]
 * DIR is a built layer (`node layer/build.mjs --out X` puts it in X/layer). Both functions get the
 * environment Lambda gives with active tracing on (`AWS_XRAY_DAEMON_ADDRESS` pointing at the
 * benchmark's stand-in daemon), plus `--env-a`/`--env-b` (e.g. '{"OTEL_SDK_DISABLED":"true"}' to
 * measure against the function untraced).
 */
import type { LocalFunction } from '../src/local/lambda-process.js';
import { traceHeader } from '../test/helpers/traced-function.js';
import { parseAbArgs, printSides, signed, startNoopFunction } from './lib/ab-sides.js';
import { cpuMs } from './lib/measure.js';
import { SpanSinks } from './lib/span-sinks.js';
import { median, quantile } from './lib/stats.js';

const {
  values,
  sides: abSides,
  runtime,
} = parseAbArgs('ab-warm', { pairs: '6', invocations: '150', 'evict-mib': '0' });
const invocations = Number(values.invocations);
const pairs = Number(values.pairs);
const WARM_UP = 20;

/**
 * `--evict-mib N`: before each invocation, this process writes over N MiB of memory, pushing the
 * frozen function out of the CPU caches as the benchmark's other setups do while it is frozen
 * (on Lambda, other tenants). Warm figures then include the cold-cache cost every thaw pays.
 */
const evictBytes = Number(values['evict-mib']) * 1024 * 1024;
const evictBuffer = new Uint8Array(evictBytes);
let evictRound = 0;
function evictCaches(): void {
  evictRound = (evictRound + 1) & 0xff;
  for (let offset = 0; offset < evictBytes; offset += 64) evictBuffer[offset] = evictRound;
}

const sinks = await SpanSinks.start();
const sides = abSides.map((side) => ({ ...side, cpu: [] as number[], wall: [] as number[] }));
/** Per pair, B's CPU p50 minus A's. */
const deltas: number[] = [];
const started: LocalFunction[] = [];
try {
  for (let pair = 0; pair < pairs; pair++) {
    const fns: LocalFunction[] = [];
    // Each side is started first in every other pair.
    for (const side of pair % 2 === 0 ? sides : [...sides].reverse()) {
      const fn = await startNoopFunction(side, runtime, sinks);
      started.push(fn);
      fns[sides.indexOf(side)] = fn;
    }
    const cpu: number[][] = [[], []];
    for (let i = 0; i < invocations + WARM_UP; i++) {
      // Each goes first every other time.
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const side = sides[k] as (typeof sides)[0];
        const fn = fns[k] as LocalFunction;
        if (evictBytes > 0) evictCaches();
        const cpuBefore = cpuMs(fn.pid);
        const begun = performance.now();
        const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
        const wall = performance.now() - begun;
        const used = cpuMs(fn.pid) - cpuBefore;
        if (result.status !== 'success')
          throw new Error(`${side.name}: invocation ${result.status}\n${fn.output()}`);
        if (i >= WARM_UP) {
          side.cpu.push(used);
          side.wall.push(wall);
          cpu[k]?.push(used);
        }
      }
    }
    deltas.push(quantile(cpu[1] ?? [], 0.5) - quantile(cpu[0] ?? [], 0.5));
    for (const fn of fns) await fn.stop();
  }
  console.log(
    `${pairs} pairs of processes x ${invocations} warm invocations each, in turns, ${runtime}, no-op function (ms)`,
  );
  printSides(
    sides,
    [
      ['CPU p25', 'cpu', 0.25],
      ['CPU p50', 'cpu', 0.5],
      ['CPU p75', 'cpu', 0.75],
      ['wall p50', 'wall', 0.5],
    ],
    3,
  );
  const delta = median(deltas);
  const base = quantile((sides[0] as (typeof sides)[0]).cpu, 0.5);
  console.log(
    `B - A, CPU p50, median of the pairs: ${signed(delta, 3)} ms (${((delta / base) * 100).toFixed(1)}%); per pair: ${deltas.map((d) => signed(d, 3)).join(' ')}`,
  );
} finally {
  for (const fn of started) await fn.stop();
  await sinks.close();
}
