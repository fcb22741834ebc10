import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Lets every 1.x copy of `@opentelemetry/api` that a function ships see the layer's tracer provider.
 *
 * The API stores its globals under `Symbol.for('opentelemetry.js.api.1')` with the registering
 * copy's version, and a copy only reads them when its own minor version is at most that version's
 * minor (`isCompatible` in the API's `internal/semver`). A function bundling a newer API than the
 * layer's would otherwise get no-op tracers and lose its manual spans without a word.
 *
 * Widening has a price: registration requires the stored version to equal the registering copy's,
 * so once widened no copy can register a global again (a function's own `diag.setLogger` would
 * fail). It is therefore done only when the function ships a copy newer than the layer's, the one
 * case that needs it (an older copy reads newer globals), and after every global of the layer
 * (tracer provider, context manager, propagator, diag logger) has been registered.
 *
 * @param functionApiVersion the version of the copy the function ships, if any ({@link shippedApiVersion})
 * @returns whether the globals were found (widened or not)
 */
export function widenApiCompatibility(functionApiVersion: string | undefined): boolean {
  const store = (globalThis as Record<symbol, unknown>)[Symbol.for('opentelemetry.js.api.1')];
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof (store as { version?: unknown }).version !== 'string'
  ) {
    return false;
  }
  const stored = store as { version: string };
  // Minor 999 is accepted by every 1.x reader, older or newer than the layer's own copy.
  if (minorOf(functionApiVersion) > minorOf(stored.version)) stored.version = WIDENED_API_VERSION;
  return true;
}

/**
 * The version of the `@opentelemetry/api` the function's code resolves from its task root (its
 * own `node_modules`), or undefined when it ships none there. (A copy bundled into the function's
 * own file cannot be seen: the README says to keep it external.)
 */
export function shippedApiVersion(taskRoot: string): string | undefined {
  try {
    const entry = createRequire(path.join(taskRoot, 'noop.js')).resolve('@opentelemetry/api', {
      paths: [taskRoot],
    });
    const marker = `${path.sep}node_modules${path.sep}@opentelemetry${path.sep}api${path.sep}`;
    const root = entry.slice(0, entry.lastIndexOf(marker) + marker.length);
    const version = (
      JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown }
    ).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The minor of a 1.x version (`1.10.0` → 10); -1 when there is none to read. */
function minorOf(version: string | undefined): number {
  const match = /^1\.(\d+)\./.exec(version ?? '');
  return match ? Number(match[1]) : -1;
}

/** The version the shared API globals advertise once widened. */
export const WIDENED_API_VERSION = '1.999.0';
