/**
 * Lets every 1.x copy of `@opentelemetry/api` that a function ships see the layer's tracer provider.
 *
 * The API stores its globals under `Symbol.for('opentelemetry.js.api.1')` with the registering
 * copy's version, and a copy only reads them when its own minor version is at most that version's
 * minor (`isCompatible` in the API's `internal/semver`). A function bundling a newer API than the
 * layer's would otherwise get no-op tracers and lose its manual spans without a word.
 *
 * Called once, after every global (tracer provider, context manager, propagator, diag logger) has
 * been registered: registration itself requires the stored version to equal the registering copy's.
 */
export function widenApiCompatibility(): boolean {
  const store = (globalThis as Record<symbol, unknown>)[Symbol.for('opentelemetry.js.api.1')];
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof (store as { version?: unknown }).version !== 'string'
  ) {
    return false;
  }
  // Minor 999 is accepted by every 1.x reader, older or newer than the layer's own copy.
  (store as { version: string }).version = WIDENED_API_VERSION;
  return true;
}

/** The version the shared API globals advertise once widened. */
export const WIDENED_API_VERSION = '1.999.0';
