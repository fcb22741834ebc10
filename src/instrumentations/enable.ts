import { diag, type TracerProvider } from '@opentelemetry/api';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import type { Config } from '../config/load-config.js';
import { anyInstalled, type PackageSearch } from './installed.js';
import { INSTRUMENTATIONS } from './registry.js';

/**
 * Creates and enables the instrumentations the configuration turns on and whose library the
 * function has installed (a function without `pg` does not pay for loading the pg instrumentation).
 * Each is contained: one that fails to load is reported and skipped, and the others still work.
 *
 * @returns the module names the enabled instrumentations patch, for the ESM loader hook.
 */
export async function enableInstrumentations(
  config: Readonly<Config>,
  tracerProvider: TracerProvider,
  search: PackageSearch,
): Promise<string[]> {
  const instrumentations: Instrumentation[] = [];
  const modules: string[] = [];
  for (const name of config.instrumentations) {
    const entry = INSTRUMENTATIONS[name];
    if (entry === undefined) continue;
    if (entry.packages !== undefined && !anyInstalled(entry.packages, search)) {
      diag.debug(`instrumentation ${name} is off: none of ${entry.packages.join(', ')} is installed`);
      continue;
    }
    try {
      instrumentations.push(...(await entry.load(config)));
      modules.push(...entry.modules);
    } catch (error) {
      diag.warn(`instrumentation ${name} could not be loaded and is off: ${String(error)}`);
    }
  }
  if (instrumentations.length > 0) registerInstrumentations({ instrumentations, tracerProvider });
  return modules;
}
