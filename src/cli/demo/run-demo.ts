/**
 * `npm run demo` (`otel-lambda-xray demo`): the example functions in `examples/` run the way Lambda
 * runs them (the real runtime client, started through the built layer's `otel-handler`, frozen
 * between invocations), call real local services, and export into the local view, which prints
 * each trace and serves the web view.
 *
 * The scenario, as steps so more can slot in:
 * 1. `GET /orders/42` on the API function: Postgres query (pg), inventory call (fetch), a manual
 *    span, an SQS send (AWS SDK); it exports over OTLP/HTTP, the collector path.
 * 2. The message, delivered as Lambda's SQS event source mapping would, to the worker (ESM), which
 *    writes to DynamoDB; it exports to the X-Ray daemon over UDP, the collector-less path.
 * 3. `GET /orders/7`: the inventory service fails, the function throws: a fault with its cause.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqsEventFromMessages } from '../../local/aws-services.js';
import { LocalFunction } from '../../local/lambda-process.js';
import type { RuntimeName } from '../../local/runtime-entries.js';
import { DEFAULT_PORTS, LocalView } from '../local-view/local-view.js';
import { renderTrace } from '../local-view/render-tree.js';
import type { TraceStore } from '../local-view/trace-store.js';
import { type DemoServices, startDemoServices } from './demo-services.js';

export interface DemoOptions {
  /** Run the scenario once, print, exit. */
  short: boolean;
  /** Web view port; default 2001, a free one if that is taken. */
  webPort: number | undefined;
  /** The built layer (default `dist/layer` of this repository). */
  layerDir: string | undefined;
  runtime: RuntimeName;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** How long without a new document before a trace counts as complete (UDP has no "done"). */
const SETTLE_MS = 150;

/** Runs the demo; resolves with the exit code once it stopped (at once with --short, else on Ctrl-C). */
export async function runDemo(options: DemoOptions): Promise<number> {
  const log = (line: string) => console.log(line);
  const layerDir = path.resolve(options.layerDir ?? path.join(repoRoot, 'dist/layer'));
  const execWrapper = path.join(layerDir, 'otel-handler');
  if (!existsSync(execWrapper)) {
    console.error(
      `otel-lambda-xray demo: no built layer at ${layerDir}; run \`npm run demo\` (it builds it)`,
    );
    return 1;
  }

  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };
  // The runtimes are detached and frozen between invocations: a Ctrl-C reaching only this process
  // would leave them stopped forever, so every exit path stops them first.
  let interrupted!: () => void;
  const interruption = new Promise<void>((resolve) => {
    interrupted = resolve;
  });
  // `on`, not `once`: LocalFunction's reaper re-raises a signal nobody else is listening to.
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);

  let serving = false;
  const run = async (): Promise<number> => {
    const view = await startView(options.webPort);
    cleanup.push(() => view.close());
    const services = await startDemoServices(log);
    cleanup.push(() => services.close());

    const common = { runtime: options.runtime, execWrapper, optDir: layerDir, timeoutSec: 10 };
    const [api, worker] = await Promise.all([
      LocalFunction.start({
        ...common,
        taskRoot: path.join(repoRoot, 'examples/orders-api'),
        handler: 'index.handler',
        functionName: 'orders-api',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: view.otlpHttpEndpoint,
          INVENTORY_URL: services.inventoryUrl,
          ORDERS_QUEUE_URL: services.queueUrl,
          AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
          ...postgresEnv(services),
        },
      }),
      LocalFunction.start({
        ...common,
        taskRoot: path.join(repoRoot, 'examples/order-worker'),
        handler: 'index.handler',
        functionName: 'order-worker',
        env: {
          OTEL_TRACES_EXPORTER: 'xray',
          AWS_XRAY_DAEMON_ADDRESS: view.daemonAddress,
          AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
          SHIPMENTS_TABLE: services.table,
        },
      }),
    ]);
    cleanup.push(
      () => api.stop(),
      () => worker.stop(),
    );

    const traceIds: string[] = [];
    const step = async (title: string, fn: LocalFunction, event: unknown) => {
      const header = newTraceHeader();
      const result = await fn.invoke(event, { traceHeader: header.value });
      const outcome =
        result.status === 'success'
          ? `status ${(result.payload as { statusCode?: number })?.statusCode ?? 'ok'}`
          : `${result.status}: ${result.error?.errorMessage ?? ''}`;
      log(`• ${title}: ${outcome} (${result.durationMs.toFixed(1)} ms)`);
      if (result.status !== 'success' && result.status !== 'error') log(fn.output());
      traceIds.push(header.traceId);
      return result;
    };

    log(
      `\nRunning the example functions through the layer at ${path.relative(process.cwd(), layerDir) || '.'}:`,
    );
    await step('orders-api GET /orders/42', api, httpApiEvent(42));
    const messages = await services.receiveMessages();
    // A consumer's trace: its own (Lambda starts one per SQS invocation), the record span inside
    // it continuing the API function's trace through the message's AWSTraceHeader.
    await step(
      `order-worker SQS batch of ${messages.length}`,
      worker,
      sqsEventFromMessages(messages, services.queueArn),
    );
    await step('orders-api GET /orders/7 (inventory fails)', api, httpApiEvent(7));
    // Slot for the next steps (for example a Sequelize-backed function): add a step() call here.

    await settle(view.store);
    for (const traceId of new Set(traceIds)) {
      const trace = view.store.get(traceId);
      if (trace !== undefined) log(`\n${renderTrace(trace, { color: process.stdout.isTTY })}`);
    }
    log(`\nWeb view: ${view.webUrl}  (traces, timelines, service map)`);
    if (options.short) return 0;
    serving = true;
    log('Ctrl-C to stop.');
    await interruption;
    return 0;
  };

  try {
    // Ctrl-C while serving is the normal way out; during the scenario it cuts it short.
    return await Promise.race([run(), interruption.then(() => (serving ? 0 : 130))]);
  } finally {
    await stopAll();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

async function startView(webPort: number | undefined): Promise<LocalView> {
  try {
    return await LocalView.start({
      udpPort: 0,
      otlpPort: 0,
      otlpHttpPort: 0,
      webPort: webPort ?? DEFAULT_PORTS.web,
    });
  } catch (error) {
    // The default port taken (another view running): any free one will do for a demo.
    if ((error as { code?: string }).code !== 'EADDRINUSE' || webPort !== undefined) throw error;
    return LocalView.start({ udpPort: 0, otlpPort: 0, otlpHttpPort: 0, webPort: 0 });
  }
}

function postgresEnv(services: DemoServices): Record<string, string> {
  const pg = services.postgres;
  if (pg === undefined) return {};
  return { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGDATABASE: pg.database };
}

/** A sampled Lambda trace header with a fresh root, as the Lambda service passes one. */
function newTraceHeader(): { value: string; traceId: string } {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  const random = randomBytes(12).toString('hex');
  const parent = randomBytes(8).toString('hex');
  return { value: `Root=1-${epoch}-${random};Parent=${parent};Sampled=1`, traceId: `1-${epoch}-${random}` };
}

/** An API Gateway HTTP API (payload 2.0) event for `GET /orders/{id}`. */
function httpApiEvent(id: number): unknown {
  const host = 'abc123.execute-api.us-east-1.amazonaws.com';
  return {
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: `/orders/${id}`,
    rawQueryString: '',
    headers: { accept: 'application/json', host, 'user-agent': 'curl/8.4.0', 'x-forwarded-proto': 'https' },
    pathParameters: { id: String(id) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: host,
      http: {
        method: 'GET',
        path: `/orders/${id}`,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8.4.0',
      },
      requestId: randomBytes(8).toString('hex'),
      routeKey: 'GET /orders/{id}',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

/** Resolves once no document arrived for {@link SETTLE_MS}. */
function settle(store: TraceStore): Promise<void> {
  return new Promise((resolve) => {
    let timer = setTimeout(done, SETTLE_MS);
    const unsubscribe = store.onChange(() => {
      clearTimeout(timer);
      timer = setTimeout(done, SETTLE_MS);
    });
    function done() {
      unsubscribe();
      resolve();
    }
  });
}
