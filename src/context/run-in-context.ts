import {
  type Context,
  type ContextManager,
  context,
  createContextKey,
  ROOT_CONTEXT,
} from '@opentelemetry/api';

/** Where every 1.x copy of the API keeps its globals (see `api-compat.ts`). */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');

const PROBE = createContextKey('otel-lambda-xray context manager probe');

/** The global context manager `context.with` was seen to use, when it was remembered. */
let remembered: ContextManager | undefined;

function globalContextManager(): ContextManager | undefined {
  const globals = (globalThis as Record<symbol, { context?: ContextManager } | undefined>)[API_GLOBALS];
  return globals?.context;
}

/**
 * Remembers the global context manager, once the layer registered its globals, if `context.with`
 * is seen to run code in it. Returns whether it did.
 */
export function rememberContextManager(): boolean {
  remembered = undefined;
  const manager = globalContextManager();
  if (manager === undefined) return false;
  try {
    const probe = ROOT_CONTEXT.setValue(PROBE, true);
    if (context.with(probe, () => manager.active() === probe)) remembered = manager;
  } catch {
    // A manager that cannot even be probed is left to the API.
  }
  return remembered !== undefined;
}

/**
 * Runs `fn` with `ctx` active, as `context.with(ctx, fn)` does. While the global context manager
 * is still the one remembered, it is called directly: the API would look its globals up and check
 * their version on every call, some 15 µs of every invocation's way to its handler after a freeze.
 * Any other manager (none remembered, or one registered since) goes through the API.
 */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  const manager = remembered;
  if (manager !== undefined && globalContextManager() === manager) return manager.with(ctx, fn);
  return context.with(ctx, fn);
}
