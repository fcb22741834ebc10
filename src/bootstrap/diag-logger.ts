import { DiagConsoleLogger, type DiagLogger } from '@opentelemetry/api';

const PREFIX = 'otel-lambda-xray:';

/**
 * The diag logger the layer installs: the API's console logger, with every line prefixed so a
 * reader of the function's logs can tell the layer's lines from the function's own.
 */
export function createPrefixedLogger(): DiagLogger {
  const target = new DiagConsoleLogger();
  const forward =
    (level: keyof DiagLogger) =>
    (message: string, ...args: unknown[]): void =>
      target[level](`${PREFIX} ${message}`, ...args);
  return {
    error: forward('error'),
    warn: forward('warn'),
    info: forward('info'),
    debug: forward('debug'),
    verbose: forward('verbose'),
  };
}
