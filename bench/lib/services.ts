/**
 * What the realistic function talks to, all on 127.0.0.1: Postgres (already running, or the handler
 * is skipped), an HTTP service standing in for a downstream API, and `local-aws-sqs`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';
import pg from 'pg';

/** Where Postgres is expected (the project machines' server: trust auth). */
export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

const QUEUE_NAME = 'bench-orders';

/** The running downstream services and the environment that points the function at them. */
export interface Services {
  /** `BENCH_*` variables for the realistic function. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Resolves to undefined when Postgres answers, else to the reason it did not. */
export async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ ...POSTGRES, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts the HTTP service and local SQS. */
export async function startServices(): Promise<Services> {
  const http: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, amount: 42.5, currency: 'EUR' }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1', queues: [{ QueueName: QUEUE_NAME }] });
  const sqsPort = (sqs.address() as AddressInfo).port;
  const sqsEndpoint = `http://127.0.0.1:${sqsPort}`;
  return {
    env: {
      BENCH_PG_HOST: POSTGRES.host,
      BENCH_PG_PORT: String(POSTGRES.port),
      BENCH_PG_USER: POSTGRES.user,
      BENCH_PG_DATABASE: POSTGRES.database,
      BENCH_HTTP_URL: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
      BENCH_SQS_ENDPOINT: sqsEndpoint,
      // local-aws-sqs names queues like SQS does: endpoint/account/name.
      BENCH_SQS_QUEUE_URL: `${sqsEndpoint}/123456789012/${QUEUE_NAME}`,
    },
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      sqs.closeAllConnections?.();
      await new Promise((resolve) => sqs.close(resolve));
    },
  };
}
