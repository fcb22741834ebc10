/**
 * What the A/B tools (`bench/ab-warm.ts`, `bench/ab-cold.ts`) share: the two sides from the command
 * line, and the no-op function started through a side's layer.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { LocalFunction } from '../../src/local/lambda-process.js';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import type { SpanSinks } from './span-sinks.js';
import { quantile } from './stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** One side: a built layer folder and the environment it runs with. */
export interface AbSide {
  readonly name: 'A' | 'B';
  readonly dir: string;
  readonly env: Record<string, string>;
}

/**
 * Parses the command line: `--a DIR --b DIR [--runtime R --env-a JSON --env-b JSON]` and the tool's
 * own string options, given with their defaults. Exits with a usage line without `--a` and `--b`.
 */
export function parseAbArgs(
  tool: string,
  defaults: Record<string, string>,
): { values: Record<string, string>; sides: [AbSide, AbSide]; runtime: RuntimeName } {
  const options: NonNullable<ParseArgsConfig['options']> = {
    a: { type: 'string' },
    b: { type: 'string' },
    runtime: { type: 'string', default: 'nodejs24.x' },
    'env-a': { type: 'string', default: '{}' },
    'env-b': { type: 'string', default: '{}' },
  };
  for (const [name, value] of Object.entries(defaults)) options[name] = { type: 'string', default: value };
  const values = parseArgs({ options }).values as Record<string, string>;
  if (values.a === undefined || values.b === undefined) {
    console.error(
      `${tool} needs --a and --b, each a built layer folder (see the usage at the top of bench/${tool}.ts)`,
    );
    process.exit(2);
  }
  const side = (name: 'A' | 'B', dir: string, env: string): AbSide => ({
    name,
    dir: path.resolve(dir),
    env: JSON.parse(env) as Record<string, string>,
  });
  return {
    values,
    sides: [side('A', values.a, values['env-a'] ?? '{}'), side('B', values.b, values['env-b'] ?? '{}')],
    runtime: (values.runtime ?? 'nodejs24.x') as RuntimeName,
  };
}

/**
 * Starts the benchmark's no-op function through `side`'s layer and exec wrapper, with the environment
 * Lambda gives with active tracing on (the daemon address pointing at `sinks`). Resolves once it is
 * ready for its first invocation.
 */
export function startNoopFunction(
  side: AbSide,
  runtime: RuntimeName,
  sinks: SpanSinks,
): Promise<LocalFunction> {
  return LocalFunction.start({
    runtime,
    taskRoot: path.join(repoRoot, 'test/fixtures/functions/bench-noop'),
    handler: 'index.handler',
    functionName: 'bench-noop',
    memoryMb: 128,
    optDir: side.dir,
    execWrapper: path.join(side.dir, 'otel-handler'),
    env: { ...sinks.lambdaTracingEnv, ...side.env },
  });
}

/** A side with what was measured of it, ms. */
export interface MeasuredSide extends AbSide {
  readonly wall: readonly number[];
  readonly cpu: readonly number[];
}

/** One column of the table: its heading, the samples it reads and the quantile it shows. */
export type AbColumn = readonly [heading: string, samples: 'wall' | 'cpu', quantile: number];

/** Prints the sides as a Markdown table, one row each, quantiles with `digits` decimals. */
export function printSides(
  sides: readonly MeasuredSide[],
  columns: readonly AbColumn[],
  digits: number,
): void {
  console.log(`| side | layer | ${columns.map(([heading]) => heading).join(' | ')} |`);
  console.log(`| --- | --- | ${columns.map(() => '---:').join(' | ')} |`);
  for (const side of sides) {
    const cells = columns.map(([, samples, q]) => quantile(side[samples], q).toFixed(digits));
    console.log(`| ${side.name} | ${side.dir} ${JSON.stringify(side.env)} | ${cells.join(' | ')} |`);
  }
}

/** A difference with its sign, `digits` decimals. */
export function signed(value: number, digits: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}
