/**
 * One measured run: a fresh sandbox of one setup, its cold invocation, then warm ones, on the real
 * runtime client frozen between invocations like Lambda freezes it.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalFunction } from '../../src/local/lambda-process.js';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { traceHeader } from '../../test/helpers/traced-function.js';
import { httpApiEvent } from './events.js';
import type { Setup, SetupContext } from './setups.js';

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

interface Window {
  startMs: number;
  /** When the spans present right after this invocation were collected. */
  collectedMs: number;
  /** The header's Root as 32 hex digits. */
  traceId: string;
}

/** Starts the setup's function afresh and measures it. */
export async function measureRun(
  setup: Setup,
  handler: HandlerKind,
  context: SetupContext,
  options: RunOptions,
): Promise<RunSample> {
  const taskRoot = prepareTaskRoot(options.repoRoot, handler, setup, context);
  const launch = setup.launch(context);
  const { sinks } = context;
  await sinks.collect();
  const firstSpan = sinks.spans.length;
  const windows: Window[] = [];
  const warmMs: number[] = [];
  let fn: LocalFunction | undefined;
  const invoke = async (target: LocalFunction): Promise<number> => {
    const header = traceHeader(true);
    const startMs = Date.now();
    const started = performance.now();
    const result = await target.invoke(handler === 'app' ? httpApiEvent(String(windows.length + 1)) : {}, {
      traceHeader: header.header,
    });
    const elapsed = performance.now() - started;
    if (result.status !== 'success') {
      throw new Error(`invocation ${result.status}: ${JSON.stringify(result.error ?? result.payload)}`);
    }
    await sinks.collect();
    windows.push({ startMs, collectedMs: Date.now(), traceId: header.traceId });
    return elapsed;
  };
  try {
    const started = performance.now();
    fn = await LocalFunction.start({
      runtime: options.runtime,
      taskRoot,
      handler: `${setup.handlerFile}.handler`,
      functionName: `bench-${handler}`,
      memoryMb: options.memoryMb,
      optDir: launch.optDir,
      env: { ...options.env, ...launch.env },
      ...(launch.execWrapper ? { execWrapper: launch.execWrapper } : {}),
    });
    await invoke(fn);
    const coldMs = performance.now() - started;
    for (let i = 0; i < options.warm; i++) warmMs.push(await invoke(fn));
    const rssMiB = residentMiB(fn.pid);
    const counts = attribute(sinks.spans.slice(firstSpan), windows);
    return { coldMs, initMs: fn.initDurationMs, warmMs, rssMiB, invocations: windows.length, ...counts };
  } catch (error) {
    const output = fn?.output().trim().split('\n').slice(-15).join('\n') ?? '';
    const message = error instanceof Error ? error.message : String(error);
    return {
      coldMs: Number.NaN,
      initMs: Number.NaN,
      warmMs,
      rssMiB: Number.NaN,
      invocations: windows.length,
      spans: 0,
      beforeFreeze: 0,
      joined: 0,
      withSpans: 0,
      error: `${message}\n${output}`,
    };
  } finally {
    await fn?.stop();
    rmSync(taskRoot, { recursive: true, force: true });
  }
}

/**
 * Assigns each span to its invocation: by trace ID when it is in the trace of an invocation's header
 * (exact, whatever the clocks say), else by when it ended (the last invocation started before). Then
 * checks whether it arrived before that invocation's freeze, and whether each invocation's spans all
 * joined Lambda's trace.
 */
function attribute(
  spans: readonly { traceId: string; endMs: number; collectedMs: number }[],
  windows: readonly Window[],
) {
  const byTrace = new Map(windows.map((w, k) => [w.traceId, k]));
  const perWindow = windows.map(() => [] as string[]);
  let counted = 0;
  let beforeFreeze = 0;
  for (const span of spans) {
    let index = byTrace.get(span.traceId) ?? -1;
    if (index < 0) {
      // 1 ms of slack for clock rounding between the function and this process.
      for (let k = 0; k < windows.length; k++)
        if ((windows[k]?.startMs ?? Infinity) <= span.endMs + 1) index = k;
    }
    const window = windows[index];
    if (!window) continue; // Ended before the first invocation: an init-time span, not counted.
    counted++;
    perWindow[index]?.push(span.traceId);
    if (span.collectedMs <= window.collectedMs) beforeFreeze++;
  }
  let joined = 0;
  let withSpans = 0;
  perWindow.forEach((traceIds, k) => {
    if (traceIds.length === 0) return;
    withSpans++;
    if (traceIds.every((id) => id === windows[k]?.traceId)) joined++;
  });
  return { spans: counted, beforeFreeze, joined, withSpans };
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
function prepareTaskRoot(
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
