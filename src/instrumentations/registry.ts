import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Config } from '../config/load-config.js';

/** One library instrumentation the layer can turn on, by its name in the enable/disable lists. */
export interface InstrumentationEntry {
  /** Module names the ESM loader hook must wrap for this instrumentation to see ESM imports. */
  readonly modules: readonly string[];
  /**
   * Creates the instrumentation. Imported dynamically so that a disabled instrumentation's code is
   * never evaluated (bundled, the import stays lazy): it costs no cold-start time.
   */
  readonly load: (config: Readonly<Config>) => Promise<Instrumentation[]>;
}

/**
 * Every library instrumentation, keyed by the names `OTEL_NODE_ENABLED_INSTRUMENTATIONS` and
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS` use. `KNOWN_INSTRUMENTATIONS` in the configuration lists
 * the same names (a test holds them together).
 */
export const INSTRUMENTATIONS: Readonly<Record<string, InstrumentationEntry>> = {};
