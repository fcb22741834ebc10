/**
 * The layer's start-up steps, exported one by one so the cold-start profile can time each of them.
 * It is bundled the way `layer/build.mjs` bundles `src/bootstrap/entry.ts`, and the profile's driver
 * calls them in the order `loadWrappedHandler` does.
 */
import { type DiagLogger, type DiagLogLevel, diag } from '@opentelemetry/api';

export { createPrefixedLogger } from '../../src/bootstrap/diag-logger.js';
export { startTracing } from '../../src/bootstrap/start-tracing.js';
export { loadConfig } from '../../src/config/load-config.js';
export { enableInstrumentations } from '../../src/instrumentations/enable.js';
export { loadUserHandler } from '../../src/lambda/load-user-handler.js';
export { wrapHandler } from '../../src/lambda/wrap-handler.js';

/** Sets the diag logger as the entry does, at the level the configuration asks for. */
export function setLogger(logger: DiagLogger, level: DiagLogLevel): void {
  diag.setLogger(logger, { logLevel: level, suppressOverrideMessage: true });
}
