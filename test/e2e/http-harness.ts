import type { LocalFunction } from '../../src/local/lambda-process.js';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { startFunction } from '../helpers/traced-function.js';

/** A started function and its task root, removed by `cleanup`. */
export type HttpFunction = LocalFunction & { readonly taskRoot: string; cleanup(): Promise<void> };

/**
 * Starts an HTTP fixture through the built layer, like `startFunction`, with the repository's
 * `axios` linked into the task root's node_modules, as a function that bundles its dependencies
 * would have it.
 */
export async function startHttpFunction(
  runtime: RuntimeName,
  fixture: 'http-client' | 'http-client-esm',
  env: Record<string, string>,
  /** false runs the same function without the layer (benchmarks compare the two). */
  traced = true,
): Promise<HttpFunction> {
  return startFunction({
    runtime,
    fixture,
    env,
    traced,
    nodeModules: { axios: 'node_modules/axios' },
  });
}
