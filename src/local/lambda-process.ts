/**
 * A local Lambda function instance: the real runtime client in a child
 * process, started the way the managed runtime starts it, talking to a
 * {@link RuntimeApiEmulator}, and frozen (SIGSTOP) between invocations like
 * Lambda freezes its sandboxes.
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { InvocationResult, InvokeOptions, RuntimeError } from './runtime-api-emulator.js';
import { RuntimeApiEmulator, RuntimeInitError } from './runtime-api-emulator.js';
import type { RuntimeInstall, RuntimeName } from './runtime-entries.js';
import { lambdaEnvironment, nodeArgs, resolveRuntime } from './runtime-entries.js';

/** How to start a function. */
export interface LocalFunctionOptions {
  runtime: RuntimeName;
  /** The function code dir (LAMBDA_TASK_ROOT, also the cwd). */
  taskRoot: string;
  /** `_HANDLER`, e.g. `index.handler` or `src/app.handler`. */
  handler: string;
  /** Absolute path of an exec wrapper script (AWS_LAMBDA_EXEC_WRAPPER); it gets node + its args as arguments. */
  execWrapper?: string;
  /** Set on top of the Lambda environment. */
  env?: Record<string, string>;
  functionName?: string;
  /** Default 128. */
  memoryMb?: number;
  /** Default 3 (Lambda's default). */
  timeoutSec?: number;
  /** Default us-east-1. */
  region?: string;
  /** Freeze the process between invocations. Default true. */
  freeze?: boolean;
  /** Where layers are extracted, for NODE_PATH and PATH. Default /opt, as on Lambda. */
  optDir?: string;
  /** Init phase limit, Lambda's is 10 s. */
  initTimeoutSec?: number;
  /** Copy the function's stdout/stderr to this process's stderr (also on with LOCAL_LAMBDA_ECHO=1). */
  echoOutput?: boolean;
}

/** An invocation result plus what the instance did to serve it. */
export interface LocalInvocationResult extends InvocationResult {
  /** True when this invocation started a new process (first invoke after a timeout, crash or init error). */
  coldStart: boolean;
  /** The process that served it. */
  pid: number;
}

/** Per-invoke options; the deadline defaults to the function timeout. */
export type LocalInvokeOptions = InvokeOptions;

interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<string>;
  isExited: boolean;
  frozen: boolean;
  /** An event was delivered since the last thaw, so the next idle /next means "invocation done". */
  invoked: boolean;
}

/** One function instance (one sandbox, single concurrency). */
export class LocalFunction {
  private running: Running | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private chunks: string[] = [];
  private lastInitDurationMs = 0;
  private lastInitError: RuntimeError | undefined;
  private starts = 0;
  private stopped = false;

  private constructor(
    private readonly opts: Required<Omit<LocalFunctionOptions, 'execWrapper' | 'env'>> &
      Pick<LocalFunctionOptions, 'execWrapper' | 'env'>,
    private readonly install: RuntimeInstall,
    private readonly emulator: RuntimeApiEmulator,
  ) {
    emulator.setLifecycle({ onIdle: () => this.onIdle(), beforeDeliver: () => this.thaw() });
  }

  /** Starts the emulator and the runtime process, and waits for init (an init error is kept for the first invoke). */
  static async start(options: LocalFunctionOptions): Promise<LocalFunction> {
    const install = resolveRuntime(options.runtime);
    if (options.execWrapper) checkExecWrapper(options.execWrapper);
    statSync(options.taskRoot);
    const functionName = options.functionName ?? 'local-function';
    const region = options.region ?? 'us-east-1';
    const opts = {
      ...options,
      functionName,
      region,
      memoryMb: options.memoryMb ?? 128,
      timeoutSec: options.timeoutSec ?? 3,
      freeze: options.freeze ?? true,
      optDir: options.optDir ?? '/opt',
      initTimeoutSec: options.initTimeoutSec ?? 10,
      echoOutput: options.echoOutput ?? process.env.LOCAL_LAMBDA_ECHO === '1',
    };
    const emulator = await RuntimeApiEmulator.start({ functionName, region });
    const fn = new LocalFunction(opts, install, emulator);
    try {
      await fn.coldStart();
    } catch (error) {
      await fn.stop();
      throw error;
    }
    return fn;
  }

  /** Spawn to first `/next` of the latest cold start, in ms. */
  get initDurationMs(): number {
    return this.lastInitDurationMs;
  }

  /** The error the latest init posted to `/init/error`, if any. */
  get initError(): RuntimeError | undefined {
    return this.lastInitError;
  }

  /** The current runtime process id (0 when none is running). */
  get pid(): number {
    return this.running && !this.running.isExited ? this.running.pid : 0;
  }

  /** How many processes were started (cold starts). */
  get coldStarts(): number {
    return this.starts;
  }

  /** Whether the process is currently frozen. */
  get frozen(): boolean {
    return this.running?.frozen ?? false;
  }

  /** The runtime's stdout and stderr so far, across all its processes. */
  readonly output = (): string => this.chunks.join('');

  /**
   * Invokes the function. Resolves once the runtime is done with the event:
   * it answered and polls `/next` again (and is frozen), or it was killed.
   * Concurrent calls queue, as on one sandbox.
   */
  invoke(event: unknown, opts: LocalInvokeOptions = {}): Promise<LocalInvocationResult> {
    const result = this.chain.then(() => this.invokeNow(event, opts));
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Kills the process (thawing it if frozen) and stops the emulator. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.kill();
    await this.emulator.close();
  }

  private async invokeNow(event: unknown, opts: LocalInvokeOptions): Promise<LocalInvocationResult> {
    if (this.stopped) throw new Error('LocalFunction is stopped');
    const requestId = opts.requestId ?? randomUUID();
    let coldStart = false;
    if (!this.running || this.running.isExited) {
      coldStart = true;
      const failure = await this.coldStart();
      if (failure) return { ...failure, requestId, coldStart, pid: this.running?.pid ?? 0 };
    }
    const running = this.running as Running;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutSec * 1000;
    const deadline = Date.now() + timeoutMs;
    const result = await this.emulator.invoke(event, { ...opts, requestId, timeoutMs });
    if (result.status === 'timeout') {
      await this.kill(); // Lambda kills a timed-out sandbox; the next invoke cold-starts.
    } else if (result.status !== 'crashed') {
      await this.settleAfterInvoke(running, deadline);
    }
    return { ...result, coldStart, pid: running.pid };
  }

  /** Waits for the runtime to ask for the next event (then it is frozen), or kills it at the deadline. */
  private async settleAfterInvoke(running: Running, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.emulator.waitForNext().then(
        () => 'idle',
        () => 'gone',
      ),
      running.exited.then(() => 'gone'),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'deadline') await this.kill();
    if (outcome === 'idle' && running.frozen) await waitUntilStopped(running.pid);
  }

  /** Starts a process and waits for init; returns a result describing the failure if init failed. */
  private async coldStart(): Promise<InvocationResult | undefined> {
    await this.kill();
    this.emulator.reset();
    this.lastInitError = undefined;
    const running = this.spawnRuntime();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.emulator.waitForNext().then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      // Prefer the error the runtime reported before exiting over the bare exit status.
      running.exited.then((how) => ({
        ok: false as const,
        error: this.emulator.initError ?? exitError(how),
      })),
      new Promise<{ ok: false; error: RuntimeError }>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              ok: false,
              error: { errorType: 'Runtime.InitTimeout', errorMessage: 'init phase timed out' },
            }),
          this.opts.initTimeoutSec * 1000,
        );
      }),
    ]);
    clearTimeout(timer);
    this.lastInitDurationMs = performance.now() - started;
    if (outcome.ok) return undefined;
    const error =
      outcome.error instanceof RuntimeInitError
        ? outcome.error.runtimeError
        : isRuntimeError(outcome.error)
          ? outcome.error
          : { errorType: 'Runtime.Unknown', errorMessage: String(outcome.error) };
    this.lastInitError = error;
    // ric exits after reporting an init error; make sure, so the next invoke starts afresh.
    await this.kill();
    const status = error.errorType === 'Runtime.InitTimeout' ? 'timeout' : 'crashed';
    return { requestId: '', status, error, durationMs: 0 };
  }

  private spawnRuntime(): Running {
    const { opts, install } = this;
    const env = {
      ...lambdaEnvironment({
        runtime: opts.runtime,
        install,
        runtimeApi: this.emulator.address,
        taskRoot: opts.taskRoot,
        handler: opts.handler,
        functionName: opts.functionName,
        memoryMb: opts.memoryMb,
        region: opts.region,
        optDir: opts.optDir,
        ...(opts.execWrapper ? { execWrapper: opts.execWrapper } : {}),
      }),
      ...opts.env,
    };
    const argv = [install.node, ...nodeArgs(opts.memoryMb), install.entry];
    const [command, ...args] = opts.execWrapper ? [opts.execWrapper, ...argv] : argv;
    // Own process group, so freeze/kill reach anything the function or its wrapper spawned.
    const child = spawn(command as string, args, {
      cwd: opts.taskRoot,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A test that forgets stop() must not hang: the exit hook below still reaps the process.
    child.unref();
    this.starts += 1;
    const running: Running = {
      child,
      pid: child.pid ?? 0,
      exited: new Promise<string>((resolve) => {
        child.once('exit', (code, signal) => resolve(signal ? `signal: ${signal}` : `exit status ${code}`));
        child.once('error', (error) => resolve(`spawn error: ${error.message}`));
      }),
      isExited: false,
      frozen: false,
      invoked: false,
    };
    live.add(running);
    installReaper();
    void running.exited.then((how) => {
      running.isExited = true;
      live.delete(running);
      if (this.running === running) {
        this.emulator.abort('crashed', exitError(how));
      }
    });
    for (const stream of [child.stdout, child.stderr]) {
      (stream as { unref?: () => void } | null)?.unref?.();
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.chunks.push(chunk);
        if (this.opts.echoOutput) process.stderr.write(chunk);
      });
    }
    this.running = running;
    return running;
  }

  private onIdle(): void {
    const running = this.running;
    if (!running || running.isExited || !running.invoked || !this.opts.freeze) return;
    running.invoked = false;
    signalGroup(running.pid, 'SIGSTOP');
    running.frozen = true;
  }

  private thaw(): void {
    const running = this.running;
    if (!running) return;
    running.invoked = true;
    if (!running.frozen) return;
    signalGroup(running.pid, 'SIGCONT');
    running.frozen = false;
  }

  private async kill(): Promise<void> {
    const running = this.running;
    if (!running || running.isExited) return;
    reap(running);
    running.child.ref(); // an unref'd child would let the event loop end before its exit event
    await running.exited;
  }
}

function exitError(how: string): RuntimeError {
  return { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${how}` };
}

function isRuntimeError(value: unknown): value is RuntimeError {
  return typeof value === 'object' && value !== null && 'errorType' in value && 'errorMessage' in value;
}

/** Lambda's bootstrap refuses a wrapper that is missing or not executable. */
function checkExecWrapper(path: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path}: exec wrapper does not exist or is not executable`);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // pid 0 (spawn failed) would mean "our own process group".
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGSTOP is asynchronous; a test reading /proc right after must already see 'T'. */
async function waitUntilStopped(pid: number, limitMs = 2000): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    const state = processState(pid);
    if (state === undefined || state === 'T' || state === 't' || state === 'Z') return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The state letter from /proc/PID/stat (R, S, T, Z...), undefined if unknown. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) || undefined;
  } catch {
    return undefined;
  }
}

// Every runtime process still alive, so a crashing or interrupted test run
// never leaves a stopped (SIGSTOP) process group behind.
const live = new Set<Running>();
let reaperInstalled = false;
const REAPED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function reap(running: Running): void {
  signalGroup(running.pid, 'SIGKILL');
  // A stopped process dies on SIGKILL, but resume anything that escaped the kill.
  signalGroup(running.pid, 'SIGCONT');
  running.frozen = false;
}

function reapAll(): void {
  for (const running of live) reap(running);
}

function onSignal(signal: NodeJS.Signals): void {
  reapAll();
  // Keep the default "die on signal" behaviour when nobody else handles it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.on('exit', reapAll);
  for (const signal of REAPED_SIGNALS) process.on(signal, onSignal);
}
