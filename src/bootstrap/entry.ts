import { diag } from '@opentelemetry/api';
import { LAMBDA } from '../config/env-vars.js';
import { installedExtensions } from '../config/lambda-extensions.js';
import { type Config, daemonTarget, loadConfig } from '../config/load-config.js';
import { enableInstrumentations } from '../instrumentations/enable.js';
import { registerEsmHook } from '../instrumentations/esm-hook.js';
import type { InvocationTracer } from '../lambda/invocation.js';
import {
  HandlerLoadError,
  type HandlerLocation,
  isEsmHandler,
  loadUserHandler,
  locateHandler,
} from '../lambda/load-user-handler.js';
import {
  type LambdaHandler,
  type StreamingHandler,
  wrapHandler,
  wrapStreamingHandler,
} from '../lambda/wrap-handler.js';
import { createPrefixedLogger } from './diag-logger.js';
import { startTracing } from './start-tracing.js';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

/**
 * The layer's only entry with side effects, called once per runtime (and per worker thread when the
 * runtime runs several invocations at once): configure, start tracing, load the user's handler and
 * wrap it. `otel-handler` points `_HANDLER` at this module and keeps the user's handler in
 * `OTEL_LAMBDA_XRAY_ORIGINAL_HANDLER`; loading the handler here rather than patching the runtime's
 * module loader means ESM handlers need no loader hook.
 *
 * Tracing failures are contained: the user's handler then runs untraced. Errors loading the user's
 * own module are not the layer's to hide, and reach the runtime unchanged.
 */
export async function loadWrappedHandler(
  env: NodeJS.ProcessEnv = process.env,
  start: typeof startTracing = startTracing,
): Promise<LambdaHandler> {
  const { config, warnings, notices, exporterChosenBy } = loadConfig(env, installedExtensions(env));
  const taskRoot = env[LAMBDA.taskRoot] ?? process.cwd();
  const handlerString = config.originalHandler ?? env[LAMBDA.handler] ?? '';
  // _HANDLER keeps pointing at the layer: worker threads of a multi-concurrency runtime read it
  // again when they start, and must load the wrapped handler too.

  let tracer: InvocationTracer | undefined;
  // Found once: the ESM check needs it before the handler loads, and the load reuses it.
  let location: HandlerLocation | undefined;
  try {
    diag.setLogger(createPrefixedLogger(), { logLevel: config.logLevel, suppressOverrideMessage: true });
    for (const warning of warnings) diag.warn(warning);
    for (const notice of notices) diag.info(notice);
    diag.debug(`spans go ${exportTarget(config)} (${exporterChosenBy})`);
    if (config.disabled) {
      diag.info('OTEL_SDK_DISABLED is true: the function runs untraced');
    } else {
      const { invocations, provider } = start(config, taskRoot);
      tracer = invocations;
      // Instrumentations must be in place before the handler's module loads its libraries.
      const modules = await enableInstrumentations(config, provider, { taskRoot, nodePath: env.NODE_PATH });
      location = locatedOrUndefined(taskRoot, handlerString);
      if (location !== undefined && isEsmHandler(location)) await registerEsmHook(modules);
    }
  } catch (error) {
    diag.error(`tracing could not start, the function runs untraced: ${describe(error)}`);
  }

  const handler = await loadUserHandler(taskRoot, handlerString, location);
  if (tracer === undefined) return handler;
  try {
    // awslambda.streamifyResponse marks the handler; the runtime then calls it with the stream.
    if ((handler as unknown as Record<symbol, unknown>)[STREAMING] !== undefined) {
      return wrapStreamingHandler(handler as StreamingHandler, tracer) as LambdaHandler;
    }
    return wrapHandler(handler, tracer);
  } catch (error) {
    diag.error(`could not wrap the handler, the function runs untraced: ${describe(error)}`);
    return handler;
  }
}

/**
 * Where the handler is, or undefined for a handler string the runtime would refuse: loading it
 * below then fails with the runtime's own error, and tracing has nothing to say about it.
 */
function locatedOrUndefined(taskRoot: string, handlerString: string): HandlerLocation | undefined {
  try {
    return locateHandler(taskRoot, handlerString);
  } catch (error) {
    if (error instanceof HandlerLoadError) return undefined;
    throw error;
  }
}

/** Where spans go, for the debug log. */
function exportTarget(config: Readonly<Config>): string {
  switch (config.exporter) {
    case 'xray':
      return `to ${daemonTarget(config.xrayDaemonAddress)}`;
    case 'otlp':
      return `over OTLP (${config.otlpProtocol}) to ${config.otlpEndpoint}`;
    case 'none':
      return 'nowhere (OTEL_TRACES_EXPORTER=none)';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
