/**
 * Two builds of the layer, or one build under two configurations, compared on the cold start of the
 * no-op function: `--pairs` pairs of cold starts, A and B in turns (which goes first alternating), each
 * from spawn to the end of its first invocation (the process frozen again, so the first export is
 * in it), as the benchmark times a cold start. Per side it reports the wall time and the CPU time of
 * the runtime process (all its threads, from schedstat; the exec wrapper's shell is the same process
 * until it execs Node, so it is counted too), and the median of the pairs' differences: the figure to
 * read, as a busy machine slows both sides of a pair alike.
 *
 * Usage: node build/bench/ab-cold.js --a DIR --b DIR [--pairs 20 --runtime nodejs24.x --env-a JSON
 *   --env-b JSON]
 * DIR is a built layer (`node layer/build.mjs --out X` puts it in X/layer); the environment is the
 * one `bench/ab-warm.ts` gives (Lambda's, with active tracing on and the stand-in daemon).
 */
import { performance } from 'node:perf_hooks';
import { traceHeader } from '../test/helpers/traced-function.js';
import { type AbSide, parseAbArgs, printSides, signed, startNoopFunction } from './lib/ab-sides.js';
import { cpuMs } from './lib/measure.js';
import { SpanSinks } from './lib/span-sinks.js';
import { median } from './lib/stats.js';

const { values, sides: abSides, runtime } = parseAbArgs('ab-cold', { pairs: '20' });
const pairs = Number(values.pairs);

interface Side extends AbSide {
  wall: number[];
  cpu: number[];
}
const sides: Side[] = abSides.map((side) => ({ ...side, wall: [], cpu: [] }));

const sinks = await SpanSinks.start();
/** Per pair, B minus A. */
const wallDeltas: number[] = [];
const cpuDeltas: number[] = [];

/** One cold start of `side`: spawn to the end of the first invocation. */
async function coldStart(side: Side): Promise<{ wall: number; cpu: number }> {
  const begun = performance.now();
  const fn = await startNoopFunction(side, runtime, sinks);
  try {
    const result = await fn.invoke({}, { traceHeader: traceHeader(true).header });
    const wall = performance.now() - begun;
    if (result.status !== 'success')
      throw new Error(`${side.name}: invocation ${result.status}\n${fn.output()}`);
    return { wall, cpu: cpuMs(fn.pid) };
  } finally {
    await fn.stop();
  }
}

try {
  // One unmeasured start of each, so both meet a warm file cache.
  for (const side of sides) await coldStart(side);
  for (let pair = 0; pair < pairs; pair++) {
    const taken: { wall: number; cpu: number }[] = [];
    for (const k of pair % 2 === 0 ? [0, 1] : [1, 0]) {
      const side = sides[k] as Side;
      const sample = await coldStart(side);
      side.wall.push(sample.wall);
      side.cpu.push(sample.cpu);
      taken[k] = sample;
    }
    const [a, b] = taken as [{ wall: number; cpu: number }, { wall: number; cpu: number }];
    wallDeltas.push(b.wall - a.wall);
    cpuDeltas.push(b.cpu - a.cpu);
  }
} finally {
  await sinks.close();
}

console.log(`${pairs} pairs of cold starts in turns, ${runtime}, no-op function (ms)`);
printSides(
  sides,
  [
    ['wall p25', 'wall', 0.25],
    ['wall p50', 'wall', 0.5],
    ['wall p75', 'wall', 0.75],
    ['CPU p50', 'cpu', 0.5],
  ],
  1,
);
console.log(
  `B - A, median of the pairs: wall ${signed(median(wallDeltas), 1)} ms, CPU ${signed(median(cpuDeltas), 1)} ms`,
);
