import { diag } from '@opentelemetry/api';
import { loadImportHooks } from './deferred-import-hooks.js';

interface SyncHooksSupport {
  readonly supportsSyncHooks: () => boolean;
}
interface RegisterHooks {
  readonly register: (options: { include: string[] }) => void;
}

/**
 * Registers the `import-in-the-middle` loader hooks so that libraries an ESM handler imports are
 * instrumented too (`import pg from 'pg'` does not pass through `require`, where the CommonJS
 * hook sees it). Only called for ESM handlers, and only wraps the modules the enabled
 * instrumentations patch: wrapping costs start-up time that CommonJS functions need not pay.
 *
 * Uses Node's synchronous in-thread hooks (`module.registerHooks`, Node 22.22.3+ and 24.11.1+:
 * both Lambda runtimes), which need no loader thread and no message round trip per module.
 */
export async function registerEsmHook(moduleNames: readonly string[]): Promise<void> {
  if (moduleNames.length === 0) return;
  try {
    const support = (await import(
      'import-in-the-middle/supports-sync-hooks.mjs' as string
    )) as SyncHooksSupport;
    if (!support.supportsSyncHooks()) {
      diag.warn(
        `libraries imported from ESM are not instrumented on Node ${process.version}: it needs 22.22.3+ or 24.11.1+`,
      );
      return;
    }
    // The instrumentations' hooks wait for the package until an ESM handler needs them (see there).
    await loadImportHooks();
    const { register } = (await import('import-in-the-middle/register-hooks.mjs' as string)) as RegisterHooks;
    register({ include: [...moduleNames] });
  } catch (error) {
    diag.warn(`libraries imported from ESM are not instrumented, the loader hook failed: ${String(error)}`);
  }
}
