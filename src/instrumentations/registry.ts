import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Config } from '../config/load-config.js';

/** One library instrumentation the layer can turn on, by its name in the enable/disable lists. */
export interface InstrumentationEntry {
  /** Module names the ESM loader hook must wrap for this instrumentation to see ESM imports. */
  readonly modules: readonly string[];
  /**
   * Packages (or `@scope/prefix-*`) of which at least one must be installed for the instrumentation
   * to be worth loading; absent for Node's own modules, which are always there.
   */
  readonly packages?: readonly string[];
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
export const INSTRUMENTATIONS: Readonly<Record<string, InstrumentationEntry>> = {
  http: {
    // The ESM hook also wraps `node:http` and `node:https` (import-in-the-middle adds the prefix).
    modules: ['http', 'https'],
    load: async (config) => (await import('./http.js')).loadHttpInstrumentation(config),
  },
  undici: {
    // Global `fetch` and the `undici` package report through diagnostics channels, so nothing
    // needs patching; the name keeps an ESM import of `undici` in the hook's view all the same.
    modules: ['undici'],
    load: async (config) => (await import('./undici.js')).loadUndiciInstrumentation(config),
  },
  http2: {
    modules: ['http2'],
    load: async () => (await import('./http2.js')).loadHttp2Instrumentation(),
  },
  'aws-sdk': {
    // What instrumentation-aws-sdk 0.78 hooks: the client class (`@smithy/core` >= 3.24 keeps it
    // in its `client` submodule; `@smithy/smithy-client`, `@aws-sdk/smithy-client` before) and the
    // middleware stack. The `@aws-sdk/client-*` packages load these as CommonJS even when the
    // handler imports the client from ESM (they have no `exports` map), so the CommonJS hook
    // covers ESM handlers too; the names are listed for SDK builds that are real ES modules.
    modules: [
      '@smithy/core',
      '@smithy/smithy-client',
      '@smithy/middleware-stack',
      '@aws-sdk/smithy-client',
      '@aws-sdk/middleware-stack',
    ],
    // The function's own SDK, or the one the Lambda runtime provides on NODE_PATH.
    packages: ['@aws-sdk/client-*', '@smithy/smithy-client', '@smithy/core'],
    load: async (config) => (await import('./aws-sdk.js')).createAwsSdkInstrumentation(config),
  },
  pg: {
    // An ESM `import pg from 'pg'` is traced even without the ESM hook: pg's ES entry requires
    // pg/lib/client.js and pg-pool, which the CommonJS hook patches (Node 22.23 and 24.21).
    modules: ['pg', 'pg-pool'],
    packages: ['pg'],
    load: async (config) => (await import('./pg.js')).createPgInstrumentations(config),
  },
  sequelize: {
    // Needs the ESM hook for ESM handlers: Sequelize's ES entry (lib/index.mjs) loads its main
    // module without the CommonJS hook seeing it, so `Sequelize#query` would stay unpatched.
    modules: ['sequelize'],
    packages: ['sequelize'],
    load: async (config) => (await import('./sequelize.js')).createSequelizeInstrumentations(config),
  },
};
