/**
 * The local services the demo's functions call, all on 127.0.0.1: an inventory HTTP service,
 * PostgreSQL (the one at 127.0.0.1:5432 if there is one), SQS (`local-aws-sqs`) and DynamoDB
 * (`dynalite`). The npm packages are the repository's dev dependencies, imported only when the
 * demo runs: the published CLI's `local` command never loads them.
 */
import { createServer } from 'node:http';
import {
  listenLocally,
  type ReceivedMessage as SqsMessage,
  startDynalite,
  startLocalSqs,
} from '../../local/aws-services.js';

export type { SqsMessage };

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

/** The demo's orders: 42 succeeds, 7's item the inventory cannot answer for (the error case). */
export const DEMO_ORDERS = [
  { id: 42, item: 'espresso-beans', quantity: 2 },
  { id: 7, item: 'discontinued-grinder', quantity: 1 },
] as const;
export const FAILING_ITEM = 'discontinued-grinder';

/** Something to stop at the end. */
interface Closable {
  close(): Promise<void>;
}

/** What the functions are pointed at; `postgres` is undefined when no server answered. */
export interface DemoServices {
  inventoryUrl: string;
  postgres: { host: string; port: number; user: string; database: string } | undefined;
  sqsEndpoint: string;
  queueUrl: string;
  dynamodbEndpoint: string;
  table: string;
  /** Reads the messages waiting in the queue, with their system attributes (AWSTraceHeader). */
  receiveMessages(): Promise<SqsMessage[]>;
  queueArn: string;
  close(): Promise<void>;
}

/** Starts every service; on failure, stops those already started. */
export async function startDemoServices(log: (line: string) => void): Promise<DemoServices> {
  const started: Closable[] = [];
  try {
    const inventory = await listenLocally(
      createServer((request, response) => {
        const item = decodeURIComponent(/^\/stock\/(.+)$/.exec(request.url ?? '')?.[1] ?? '');
        const failing = item === FAILING_ITEM;
        response.writeHead(failing ? 503 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(failing ? { message: 'stock service down' } : { item, available: 17 }));
      }),
    );
    started.push(inventory);

    const postgres = await preparePostgres(log);

    // The demo's own SDK clients only create a queue and a table, on whatever Node runs the demo
    // (the functions run on the runtimes' own Node): the SDK's Node 20 notice is noise here.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const sqs = await startLocalSqs();
    started.push(sqs);
    const dynamo = await startDynalite();
    started.push(dynamo);

    const sqsClient = await import('@aws-sdk/client-sqs');
    const sqsApi = new sqsClient.SQSClient({
      endpoint: sqs.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
    });
    const { QueueUrl: queueUrl } = await sqsApi.send(
      new sqsClient.CreateQueueCommand({ QueueName: 'demo-orders' }),
    );
    const { Attributes } = await sqsApi.send(
      new sqsClient.GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const dynamoClient = await import('@aws-sdk/client-dynamodb');
    const dynamoApi = new dynamoClient.DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
    });
    const table = 'demo-shipments';
    await dynamoApi.send(
      new dynamoClient.CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    dynamoApi.destroy();

    return {
      inventoryUrl: inventory.endpoint,
      postgres,
      sqsEndpoint: sqs.endpoint,
      queueUrl: queueUrl as string,
      queueArn: Attributes?.QueueArn as string,
      dynamodbEndpoint: dynamo.endpoint,
      table,
      async receiveMessages() {
        const out = await sqsApi.send(
          new sqsClient.ReceiveMessageCommand({
            QueueUrl: queueUrl,
            // local-aws-sqs returns AWSTraceHeader only for 'All'.
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
            MaxNumberOfMessages: 10,
            // The send finished before the API function answered: the message is there already.
            WaitTimeSeconds: 0,
          }),
        );
        return (out.Messages ?? []) as SqsMessage[];
      },
      async close() {
        sqsApi.destroy();
        await Promise.all(started.map((service) => service.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((service) => service.close()));
    throw error;
  }
}

/**
 * Creates and fills `demo_orders` in the PostgreSQL at PGHOST/PGPORT (default 127.0.0.1:5432,
 * user postgres, database test); undefined, with a note, when none answers: the API function then
 * uses a fixed order and the trace has no query.
 */
async function preparePostgres(log: (line: string) => void): Promise<DemoServices['postgres']> {
  const settings = {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
  };
  const { default: pg } = await import('pg');
  const client = new pg.Client({ ...settings, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(
      'CREATE TABLE IF NOT EXISTS demo_orders (id integer PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL)',
    );
    for (const order of DEMO_ORDERS) {
      await client.query(
        'INSERT INTO demo_orders (id, item, quantity) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET item = $2, quantity = $3',
        [order.id, order.item, order.quantity],
      );
    }
    return settings;
  } catch (error) {
    log(
      `note: no PostgreSQL at ${settings.host}:${settings.port} (${(error as Error).message}); ` +
        'the demo runs without the query step (set PGHOST/PGPORT/PGUSER/PGDATABASE to use another)',
    );
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
