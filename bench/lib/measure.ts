/**
 * One measured round: a fresh sandbox per setup, its cold invocation, then warm ones taken in turns
 * across the setups, on the real runtime client frozen between invocations like Lambda freezes it.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalFunction } from '../../src/local/lambda-process.js';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { traceHeader } from '../../test/helpers/traced-function.js';
import { httpApiEvent } from './events.js';
import type { Launch, Setup, SetupContext } from './setups.js';

/** The two functions measured. */
export type HandlerKind = 'noop' | 'app';

/** What every run shares. */
export interface RunOptions {
  repoRoot: string;
  runtime: RuntimeName;
  /** Warm invocations after the cold one. */
  warm: number;
  memoryMb: number;
  /** Environment every setup gets (daemon address, the realistic function's services). */
  env: Record<string, string>;
}

/** The figures of one run. */
export interface RunSample {
  /** Spawn to the end of the first invocation (the process frozen again), ms. */
  coldMs: number;
  /** Spawn to the runtime's first `/next`, ms. */
  initMs: number;
  /** Each warm invocation, measured around `invoke()` (so including any export before the freeze), ms. */
  warmMs: number[];
  /**
   * CPU time the runtime process (all its threads, user and kernel) spent on each warm invocation,
   * ms: the layer's own work, without the waits and the machine's scheduling noise in `warmMs`.
   * Empty where the kernel does not report it.
   */
  warmCpuMs: number[];
  /** VmRSS of the frozen process after the last invocation, MiB. */
  rssMiB: number;
  invocations: number;
  /** Spans that ended during an invocation. */
  spans: number;
  /** Of those, how many arrived before the process was frozen. */
  beforeFreeze: number;
  /** Invocations with spans, all in the trace of the Root of Lambda's trace header. */
  joined: number;
  /** Invocations that produced at least one span. */
  withSpans: number;
  /** Set when the run failed; the other figures are then meaningless. */
  error?: string;
}

/**
 * A stretch of the round that belongs to one run: an invocation (counted once it succeeded), or the
 * start of a function (its init-time spans, never counted). A span that is in no invocation's trace
 * goes to the stretch it ended in.
 */
export interface Window {
  /** Which run of the round it belongs to. */
  owner: number;
  startMs: number;
  /** When the spans present right after this invocation were collected (Infinity until then). */
  collectedMs: number;
  /** The header's Root as 32 hex digits (none for a function's start). */
  traceId: string | undefined;
  /** A successful invocation: its spans are counted. */
  counted: boolean;
}

/** One setup's function during a round: started, invoked, measured, stopped. */
class Run {
  readonly warmMs: number[] = [];
  readonly warmCpuMs: number[] = [];
  coldMs = Number.NaN;
  initMs = Number.NaN;
  rssMiB = Number.NaN;
  invocations = 0;
  error: string | undefined;
  private fn: LocalFunction | undefined;
  private readonly taskRoot: string;
  private readonly launch: Launch;

  constructor(
    private readonly owner: number,
    private readonly setup: Setup,
    private readonly handler: HandlerKind,
    private readonly context: SetupContext,
    private readonly options: RunOptions,
    private readonly windows: Window[],
  ) {
    this.taskRoot = prepareTaskRoot(options.repoRoot, handler, setup, context);
    this.launch = setup.launch(context);
  }

  /** Starts the function and makes its cold invocation. */
  async start(): Promise<void> {
    const { setup, handler, options, launch } = this;
    await this.attempt(async () => {
      const started = performance.now();
      this.openWindow(undefined);
      this.fn = await LocalFunction.start({
        runtime: options.runtime,
        taskRoot: this.taskRoot,
        handler: `${setup.handlerFile}.handler`,
        functionName: `bench-${handler}`,
        memoryMb: options.memoryMb,
        optDir: launch.optDir,
        env: { ...options.env, ...launch.env },
        ...(launch.execWrapper ? { execWrapper: launch.execWrapper } : {}),
      });
      await this.invoke(this.fn);
      this.coldMs = performance.now() - started;
      this.initMs = this.fn.initDurationMs;
    });
  }

  /** One warm invocation, unless the run already failed. */
  async invokeWarm(): Promise<void> {
    const fn = this.fn;
    if (!fn || this.error !== undefined) return;
    await this.attempt(async () => {
      const cpuBefore = cpuMs(fn.pid);
      this.warmMs.push(await this.invoke(fn));
      // The process is frozen again: no CPU time is added while the spans are collected.
      const cpu = cpuMs(fn.pid) - cpuBefore;
      if (Number.isFinite(cpu)) this.warmCpuMs.push(cpu);
    });
  }

  /** Reads the frozen process's memory, then stops it. */
  async finish(): Promise<void> {
    const fn = this.fn;
    if (fn && this.error === undefined) {
      await this.attempt(async () => {
        this.rssMiB = residentMiB(fn.pid);
      });
    }
    await this.stop();
  }

  /** Stops the function (if running) and removes its code folder; safe to call twice. */
  async stop(): Promise<void> {
    await this.fn?.stop();
    this.fn = undefined;
    rmSync(this.taskRoot, { recursive: true, force: true });
  }

  private async invoke(fn: LocalFunction): Promise<number> {
    const header = traceHeader(true);
    // Before the invocation: the spans of one that fails must land here, not in another run's.
    const window = this.openWindow(header.traceId);
    const started = performance.now();
    const event = this.handler === 'app' ? httpApiEvent(String(this.invocations + 1)) : {};
    const result = await fn.invoke(event, { traceHeader: header.header });
    const elapsed = performance.now() - started;
    if (result.status !== 'success') {
      throw new Error(`invocation ${result.status}: ${JSON.stringify(result.error ?? result.payload)}`);
    }
    await this.context.sinks.collect();
    this.invocations++;
    window.collectedMs = Date.now();
    window.counted = true;
    return elapsed;
  }

  /** Starts this run's next stretch of the round (see {@link Window}), not counted until it succeeds. */
  private openWindow(traceId: string | undefined): Window {
    const window: Window = {
      owner: this.owner,
      startMs: Date.now(),
      collectedMs: Number.POSITIVE_INFINITY,
      traceId,
      counted: false,
    };
    this.windows.push(window);
    return window;
  }

  /** Runs a step; a failure ends the run (the function is stopped, its last output kept in the error). */
  private async attempt(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      const output = this.fn?.output().trim().split('\n').slice(-15).join('\n') ?? '';
      const message = error instanceof Error ? error.message : String(error);
      this.error = `${message}\n${output}`;
      await this.fn?.stop();
      this.fn = undefined;
    }
  }
}

/**
 * Measures one round of `setups` for one handler: each function is started and makes its cold
 * invocation in turn, then the warm invocations go round the functions one at a time (all frozen
 * but the one invoked), so that whatever else the machine is doing at a given moment costs every
 * setup alike. Returns one sample per setup, in order.
 */
export async function measureRound(
  setups: readonly Setup[],
  handler: HandlerKind,
  context: SetupContext,
  options: RunOptions,
): Promise<RunSample[]> {
  await context.sinks.collect();
  const firstSpan = context.sinks.spans.length;
  const windows: Window[] = [];
  const runs: Run[] = [];
  try {
    for (const setup of setups) runs.push(new Run(runs.length, setup, handler, context, options, windows));
    for (const run of runs) await run.start();
    for (let i = 0; i < options.warm; i++) for (const run of runs) await run.invokeWarm();
    for (const run of runs) await run.finish();
  } finally {
    // Every function stopped and every folder removed, whatever failed.
    await Promise.allSettled(runs.map((run) => run.stop()));
  }
  const counts = attribute(context.sinks.spans.slice(firstSpan), windows, runs.length);
  return runs.map((run, owner): RunSample => {
    const failed = run.error !== undefined;
    const count = failed ? NO_SPANS : (counts[owner] ?? NO_SPANS);
    return {
      coldMs: failed ? Number.NaN : run.coldMs,
      initMs: failed ? Number.NaN : run.initMs,
      warmMs: run.warmMs,
      warmCpuMs: run.warmCpuMs,
      rssMiB: failed ? Number.NaN : run.rssMiB,
      invocations: run.invocations,
      ...count,
      ...(failed ? { error: run.error } : {}),
    };
  });
}

/** A run's span counts (see {@link RunSample}). */
export interface Counts {
  spans: number;
  beforeFreeze: number;
  joined: number;
  withSpans: number;
}

const NO_SPANS: Readonly<Counts> = { spans: 0, beforeFreeze: 0, joined: 0, withSpans: 0 };

/**
 * Assigns each span to its invocation: by trace ID when it is in the trace of an invocation's header
 * (exact, whatever the clocks say), else by when it ended (the last invocation started before: one
 * function runs at a time). Then counts, per run, its spans, those that arrived before their
 * invocation's freeze, and the invocations whose spans all joined Lambda's trace.
 */
export function attribute(
  spans: readonly { traceId: string; endMs: number; collectedMs: number }[],
  windows: readonly Window[],
  owners: number,
): Counts[] {
  const counts = Array.from({ length: owners }, () => ({ ...NO_SPANS }));
  const byTrace = new Map(windows.flatMap((w, k) => (w.traceId ? [[w.traceId, k] as const] : [])));
  const perWindow = windows.map(() => [] as string[]);
  for (const span of spans) {
    let index = byTrace.get(span.traceId) ?? -1;
    if (index < 0) {
      // 1 ms of slack for clock rounding between the function and this process.
      for (let k = 0; k < windows.length; k++)
        if ((windows[k]?.startMs ?? Infinity) <= span.endMs + 1) index = k;
    }
    const window = windows[index];
    const count = window?.counted ? counts[window.owner] : undefined;
    // Before the first invocation, at a function's start or in a failed invocation: not counted.
    if (!window || !count) continue;
    count.spans++;
    perWindow[index]?.push(span.traceId);
    if (span.collectedMs <= window.collectedMs) count.beforeFreeze++;
  }
  windows.forEach((window, k) => {
    const traceIds = perWindow[k] ?? [];
    const count = window.counted ? counts[window.owner] : undefined;
    if (traceIds.length === 0 || !count) return;
    count.withSpans++;
    if (traceIds.every((id) => id === window.traceId)) count.joined++;
  });
  return counts;
}

/**
 * CPU time a process has used so far, all threads, in ms: the sum of the first field (time on a
 * CPU, ns) of each thread's `/proc/PID/task/TID/schedstat`. A thread that exits takes its time
 * with it, which does not matter here: the runtime's threads (main, libuv pool, V8 workers) live as
 * long as the process. NaN when unreadable (no /proc, no schedstats).
 */
export function cpuMs(pid: number): number {
  try {
    let nanos = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      nanos += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    return nanos / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of a process, in MiB (readable while the process is stopped). */
function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/**
 * A fresh copy of the fixture. The realistic function gets the project's node_modules beside it (pg,
 * sequelize, the AWS SDK, axios); the no-op one ships nothing, as a no-op function would, except
 * aws-xray-sdk in its X-Ray SDK variant, which its users bundle with their code.
 */
export function prepareTaskRoot(
  repoRoot: string,
  handler: HandlerKind,
  setup: Setup,
  context: SetupContext,
): string {
  const taskRoot = mkdtempSync(path.join(tmpdir(), `bench-${handler}-`));
  cpSync(path.join(repoRoot, 'test/fixtures/functions', `bench-${handler}`), taskRoot, { recursive: true });
  const projectModules = path.join(repoRoot, 'node_modules');
  const modules = path.join(taskRoot, 'node_modules');
  const xraySdk = setup.handlerFile === 'xray' ? context.peers['xray-sdk'] : undefined;
  if (handler === 'app' && !xraySdk) {
    symlinkSync(projectModules, modules);
  } else if (xraySdk) {
    mkdirSync(modules);
    if (handler === 'app') {
      for (const entry of readdirSync(projectModules)) {
        if (entry !== '.bin') symlinkSync(path.join(projectModules, entry), path.join(modules, entry));
      }
    }
    symlinkSync(path.join(xraySdk.nodeModules, 'aws-xray-sdk'), path.join(modules, 'aws-xray-sdk'));
  }
  return taskRoot;
}
