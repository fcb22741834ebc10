/** What this module needs of `import-in-the-middle`: its `Hook` class. */
export interface ImportHooksPackage {
  readonly Hook: new (...args: unknown[]) => { unhook(): void };
}

/**
 * The `Hook` of `import-in-the-middle` as the layer's bundle gives it to
 * `@opentelemetry/instrumentation` (`layer/build.mjs` points that package's import here).
 *
 * Every instrumentation makes one such hook per module it patches, whatever the handler, but only
 * an ESM handler's imports ever reach them (CommonJS `require` goes through
 * `require-in-the-middle`). Loading `import-in-the-middle` cost 7-13 ms of cold start (a CommonJS
 * function through the built layer, measured on both runtimes), so a hook made before it is
 * loaded only remembers its arguments; {@link loadImportHooks}, called when the handler is ESM and
 * before it loads, loads the package and makes the real hooks, in the order they were asked for.
 */
export class Hook {
  private real: { unhook(): void } | undefined;
  private readonly args: readonly unknown[];

  constructor(...args: unknown[]) {
    this.args = args;
    if (loaded !== undefined) this.real = new loaded.Hook(...args);
    else waiting.add(this);
  }

  unhook(): void {
    waiting.delete(this);
    this.real?.unhook();
    this.real = undefined;
  }

  /** Makes the real hook, once the package is loaded. */
  activate(hooks: ImportHooksPackage): void {
    this.real = new hooks.Hook(...this.args);
  }
}

let loaded: ImportHooksPackage | undefined;
const waiting = new Set<Hook>();

/**
 * Loads `import-in-the-middle` and makes the hooks asked for so far; later hooks are made at once.
 * Idempotent. Rejects with what loading the package throws (the caller reports it).
 */
export async function loadImportHooks(
  load: () => Promise<ImportHooksPackage> = importImportHooks,
): Promise<void> {
  if (loaded !== undefined) return;
  const hooks = await load();
  if (loaded !== undefined) return; // Loaded meanwhile by another call.
  loaded = hooks;
  const made = [...waiting];
  waiting.clear();
  for (const hook of made) hook.activate(hooks);
}

/** The package beside this code: in the layer, the copy beside the bundle that the loader hook uses too. */
async function importImportHooks(): Promise<ImportHooksPackage> {
  return (await import('import-in-the-middle' as string)) as ImportHooksPackage;
}
