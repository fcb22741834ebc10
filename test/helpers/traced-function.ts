import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalFunction, type LocalFunctionOptions } from '../../src/local/lambda-process.js';
import type { RuntimeName } from '../../src/local/runtime-entries.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The built layer, as Lambda would unpack it at /opt (built by `npm run build:layer`). `LAYER_DIR`
 * points the tests at another build (`node layer/build.mjs --out DIR` puts it in DIR/layer).
 */
export const LAYER_DIR = process.env.LAYER_DIR ?? path.join(repoRoot, 'dist/layer');
export const EXEC_WRAPPER = path.join(LAYER_DIR, 'otel-handler');

/** Which copy of `@opentelemetry/api` the function ships in its own node_modules. */
export type ShippedApi = 'none' | 'same' | 'newer' | 'older';

const API_COPIES: Record<Exclude<ShippedApi, 'none'>, string> = {
  same: 'node_modules/@opentelemetry/api',
  newer: 'node_modules/otel-api-newer',
  older: 'node_modules/otel-api-older',
};

/** Copies a fixture function into a fresh task root, with the chosen API copy installed. */
export function prepareTaskRoot(fixture: string, api: ShippedApi): string {
  const taskRoot = mkdtempSync(path.join(tmpdir(), `fn-${fixture}-`));
  cpSync(path.join(repoRoot, 'test/fixtures/functions', fixture), taskRoot, { recursive: true });
  if (api !== 'none') {
    cpSync(path.join(repoRoot, API_COPIES[api]), path.join(taskRoot, 'node_modules/@opentelemetry/api'), {
      recursive: true,
    });
  }
  return taskRoot;
}

export interface TracedFunctionOptions extends Partial<Omit<LocalFunctionOptions, 'taskRoot'>> {
  runtime: RuntimeName;
  fixture: string;
  api?: ShippedApi;
  /** false runs the same function without the layer, for comparisons. */
  traced?: boolean;
  /**
   * The function's dependencies, linked from the repository rather than copied (copying pg,
   * Sequelize or the AWS SDK costs about a second per function start): `'repository'` links the
   * whole `node_modules`, a record links single packages (name → path relative to the repository).
   * Node resolves a linked package to its real path, so its own dependencies resolve there too.
   */
  nodeModules?: 'repository' | Readonly<Record<string, string>>;
}

/** A function started through the built layer's exec wrapper, like Lambda starts it. */
export async function startFunction(
  options: TracedFunctionOptions,
): Promise<LocalFunction & { readonly taskRoot: string; cleanup(): Promise<void> }> {
  const { fixture, api = 'none', traced = true, nodeModules, ...rest } = options;
  const taskRoot = prepareTaskRoot(fixture, api);
  if (nodeModules === 'repository') {
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(taskRoot, 'node_modules'), 'dir');
  } else {
    for (const [name, target] of Object.entries(nodeModules ?? {})) {
      const link = path.join(taskRoot, 'node_modules', name);
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.join(repoRoot, target), link, 'dir');
    }
  }
  const fn = await LocalFunction.start({
    handler: 'index.handler',
    functionName: `fixture-${fixture}`,
    optDir: LAYER_DIR,
    ...rest,
    ...(traced ? { execWrapper: EXEC_WRAPPER } : {}),
    taskRoot,
  });
  const invoke = fn.invoke.bind(fn);
  return Object.assign(fn, {
    taskRoot,
    async invoke(...args: Parameters<LocalFunction['invoke']>) {
      const result = await invoke(...args);
      await drainPendingIo();
      return result;
    },
    async cleanup() {
      await fn.stop();
      rmSync(taskRoot, { recursive: true, force: true });
    },
  });
}

/**
 * Lets this process read what is already waiting on its sockets. The layer may report an export done
 * once its bytes are written (`OTEL_LAMBDA_XRAY_FLUSH_UNTIL`), so they can still sit in the kernel
 * when the invocation returns; the function is frozen by then, so whatever a few event-loop turns
 * bring in was sent before the freeze. (A first export also needs the receiver to accept a
 * connection and sniff its protocol: a few turns.)
 */
export async function drainPendingIo(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A Lambda trace header with a fresh root, as the Lambda service sends it. */
export function traceHeader(sampled: boolean): { header: string; traceId: string; parentId: string } {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  const random = hex(24);
  const parentId = hex(16);
  return {
    header: `Root=1-${epoch}-${random};Parent=${parentId};Sampled=${sampled ? 1 : 0}`,
    traceId: `${epoch}${random}`,
    parentId,
  };
}
