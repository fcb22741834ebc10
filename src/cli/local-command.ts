import { type LocalView, type LocalViewOptions, LocalView as View } from './local-view/local-view.js';
import { renderTrace } from './local-view/render-tree.js';

/** How long a trace must be quiet before it is printed: its spans come in several exports. */
const QUIET_MS = 400;

/**
 * `otel-lambda-xray local`: starts the local view, prints each trace once it has been quiet for a
 * moment, and runs until Ctrl-C (or SIGTERM), then closes every socket and exits.
 */
export async function runLocal(options: LocalViewOptions): Promise<number> {
  let view: LocalView;
  try {
    view = await View.start({ ...options, onWarning: (message) => console.error(`warning: ${message}`) });
  } catch (error) {
    const { code, port } = error as { code?: string; port?: number };
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      console.error(
        `otel-lambda-xray: port ${port ?? ''} is ${code === 'EADDRINUSE' ? 'in use' : 'not allowed'} ` +
          '(is an X-Ray daemon, a collector or another local view running?); choose others with ' +
          '--udp-port, --otlp-port and --port',
      );
      return 1;
    }
    throw error;
  }
  console.log(banner(view));
  const timers = new Map<string, NodeJS.Timeout>();
  view.store.onChange((traceId) => {
    clearTimeout(timers.get(traceId));
    timers.set(
      traceId,
      setTimeout(() => {
        timers.delete(traceId);
        const trace = view.store.get(traceId);
        if (trace !== undefined) console.log(`\n${renderTrace(trace, { color: process.stdout.isTTY })}`);
      }, QUIET_MS),
    );
  });
  let stop!: () => void;
  await new Promise<void>((resolve) => {
    stop = resolve;
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  for (const timer of timers.values()) clearTimeout(timer);
  await view.close();
  return 0;
}

/** The addresses to point functions at, and where to look. */
export function banner(view: LocalView): string {
  return [
    'otel-lambda-xray local view',
    `  X-Ray daemon (UDP)  ${view.daemonAddress}   functions: OTEL_TRACES_EXPORTER=xray AWS_XRAY_DAEMON_ADDRESS=${view.daemonAddress}`,
    `  OTLP/gRPC           ${view.otlpEndpoint}   functions: OTEL_EXPORTER_OTLP_ENDPOINT=${view.otlpEndpoint}`,
    `  web view            ${view.webUrl}`,
    'Ctrl-C to stop.',
  ].join('\n');
}
