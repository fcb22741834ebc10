import { diag, type TracerProvider } from '@opentelemetry/api';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import type { Config } from '../config/load-config.js';
import { INSTRUMENTATIONS } from './registry.js';

/**
 * Creates and enables the instrumentations the configuration turns on. Each is contained: one that
 * fails to load is reported and skipped, and the others still work.
 *
 * @returns the module names the enabled instrumentations patch, for the ESM loader hook.
 */
export async function enableInstrumentations(
  config: Readonly<Config>,
  tracerProvider: TracerProvider,
): Promise<string[]> {
  const instrumentations: Instrumentation[] = [];
  const modules: string[] = [];
  for (const name of config.instrumentations) {
    const entry = INSTRUMENTATIONS[name];
    if (entry === undefined) continue;
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
