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
          '--udp-port, --otlp-http-port, --otlp-port and --port',
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

/**
 * The addresses to point functions at, and where to look: one row per listener, the addresses
 * padded to one width so the environment to set lines up beneath itself.
 */
export function banner(view: LocalView): string {
  const rows: Array<[label: string, address: string, env?: string]> = [
    [
      'X-Ray daemon (UDP)',
      view.daemonAddress,
      `OTEL_TRACES_EXPORTER=xray AWS_XRAY_DAEMON_ADDRESS=${view.daemonAddress}`,
    ],
    // http/protobuf is the exporters' default protocol, so the endpoint alone is enough.
    ['OTLP/HTTP', view.otlpHttpEndpoint, `OTEL_EXPORTER_OTLP_ENDPOINT=${view.otlpHttpEndpoint}`],
    [
      'OTLP/gRPC',
      view.otlpEndpoint,
      `OTEL_EXPORTER_OTLP_ENDPOINT=${view.otlpEndpoint} OTEL_EXPORTER_OTLP_PROTOCOL=grpc`,
    ],
    ['web view', view.webUrl],
  ];
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const addressWidth = Math.max(...rows.map(([, address]) => address.length));
  const lines = rows.map(([label, address, env]) =>
    env === undefined
      ? `  ${label.padEnd(labelWidth)}  ${address}`
      : `  ${label.padEnd(labelWidth)}  ${address.padEnd(addressWidth)}  functions: ${env}`,
  );
  return ['otel-lambda-xray local view', ...lines, 'Ctrl-C to stop.'].join('\n');
}
