import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startFunction, traceHeader } from '../helpers/traced-function.js';

const INTERNAL = 1;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/**
 * A pg fixture started like Lambda would start it. Its node_modules is a symlink to the project's:
 * pg and Sequelize resolve to their real paths under node_modules/, which is all the CommonJS hook
 * looks at, and linking costs nothing where copying both trees costs a second per function.
 */
async function startPgFunction(options: {
  runtime: RuntimeName;
  fixture: 'pg-cjs' | 'pg-esm';
  env: Record<string, string>;
  traced?: boolean;
}) {
  return startFunction({
    runtime: options.runtime,
    fixture: options.fixture,
    functionName: options.fixture,
    env: options.env,
    traced: options.traced !== false,
    nodeModules: 'repository',
  });
}

function find(spans: ReceivedSpan[], what: string, predicate: (s: ReceivedSpan) => boolean): ReceivedSpan {
  const span = spans.find(predicate);
  assert.ok(
    span,
    `no ${what}; got ${spans.map((s) => `${s.name}(${s.spanId}<-${s.parentSpanId})`).join(', ')}`,
  );
  return span;
}

function childrenOf(spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.parentSpanId === parent.spanId);
}

/** The attributes the collector's awsxray exporter turns into an X-Ray sql block, and their stable twins. */
function assertSqlAttributes(span: ReceivedSpan, db: TestDatabase): void {
  const a = span.attributes;
  assert.equal(span.kind, CLIENT, span.name);
  assert.equal(a['db.system'], 'postgresql');
  assert.equal(a['db.system.name'], 'postgresql');
  assert.equal(a['db.name'], db.database);
  assert.equal(a['db.namespace'], db.database);
  assert.equal(a['db.user'], db.user);
  assert.equal(a['server.address'], db.host);
  assert.equal(a['server.port'], db.port);
  assert.equal(a['db.connection_string'], `postgresql://${db.host}:${db.port}/${db.database}`);
  if (a['db.query.text'] !== undefined) assert.equal(a['db.statement'], a['db.query.text']);
}

describe('pg and Sequelize through the layer', () => {
  let receiver: OtlpReceiver;
  let db: TestDatabase;
  before(async () => {
    [receiver, db] = await Promise.all([OtlpReceiver.start(), createTestDatabase()]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      'CREATE TABLE orders (id serial PRIMARY KEY, item text, qty int, "createdAt" timestamptz, "updatedAt" timestamptz)',
    );
    await client.end();
  });
  after(async () => {
    await receiver?.close();
    await db?.close();
  });
  const env = (extra: Record<string, string> = {}) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    DATABASE_URL: db.url,
    ...extra,
  });

  test('CommonJS on nodejs24.x: Sequelize findAll, raw pg queries and a transaction, parented under the invocation', async () => {
    const fn = await startPgFunction({ runtime: 'nodejs24.x', fixture: 'pg-cjs', env: env() });
    try {
      const secret = `item-${randomBytes(6).toString('hex')}`;
      const header = traceHeader(true);
      const result = await fn.invoke({ action: 'work', item: secret }, { traceHeader: header.header });
      assert.equal(result.status, 'success', fn.output());
      assert.deepEqual(result.payload, { found: 0, count: 0, named: 0, native: true });
      const spans = receiver.spans.filter((s) => s.traceId === header.traceId);
      const invocation = find(spans, 'invocation span', (s) => s.kind === SERVER);

      // Sequelize findAll, its SELECT beneath it, the literal Sequelize inlined replaced by `?`.
      const findAll = find(spans, 'Order.findAll', (s) => s.name === 'Order.findAll');
      assert.equal(findAll.parentSpanId, invocation.spanId);
      assert.equal(findAll.kind, INTERNAL);
      assert.equal(findAll.attributes['db.operation.name'], 'findAll');
      assert.equal(findAll.attributes['db.collection.name'], 'orders');
      assert.equal(findAll.attributes['db.namespace'], undefined, 'X-Ray would name it <db>@<host>');
      assert.match(String(findAll.attributes['db.query.text']), /= \?;$/);
      const [select] = childrenOf(spans, findAll);
      assert.ok(select, 'no query under Order.findAll');
      assert.equal(select.name, 'SELECT orders');
      assertSqlAttributes(select, db);
      assert.match(String(select.attributes['db.statement']), /WHERE "Order"."item" = \?;$/);
      assert.equal(select.attributes['db.operation.name'], 'SELECT');
      assert.equal(select.attributes['db.collection.name'], 'orders');

      // Raw pool query: pool acquisition and the query, both children of the invocation.
      const raw = find(spans, 'raw pg query', (s) =>
        String(s.attributes['db.statement']).includes('count(*)'),
      );
      assert.equal(raw.parentSpanId, invocation.spanId);
      assert.equal(raw.name, 'SELECT orders');
      assertSqlAttributes(raw, db);
      assert.equal(raw.attributes['db.statement'], 'SELECT count(*)::int AS n FROM orders WHERE item = $1');
      assert.equal(raw.attributes['db.response.returned_rows'], 1);
      const acquire = find(spans, 'pg-pool.connect', (s) => s.name === 'pg-pool.connect');
      assert.equal(acquire.parentSpanId, invocation.spanId);
      assertSqlAttributes(acquire, db);
      // (The pool's connection was opened at module load: pg.connect spans are checked with errors below.)

      // The callback form with a named statement.
      const named = find(
        spans,
        'named statement',
        (s) => s.attributes['db.postgresql.plan'] === 'orders-by-qty',
      );
      assert.equal(named.parentSpanId, invocation.spanId);
      assert.equal(named.attributes['db.statement'], 'SELECT id FROM orders WHERE qty > $1');

      // The transaction: one span, the model operations and their SQL beneath it.
      const transaction = find(spans, 'Sequelize transaction', (s) => s.name === 'Sequelize transaction');
      assert.equal(transaction.parentSpanId, invocation.spanId);
      assert.equal(transaction.kind, INTERNAL);
      const inside = childrenOf(spans, transaction).map((s) => s.name);
      assert.deepEqual(inside, [
        'Sequelize START TRANSACTION',
        'Order.create',
        'Order.update',
        'Sequelize COMMIT',
      ]);
      const create = find(spans, 'Order.create', (s) => s.name === 'Order.create');
      const insert = childrenOf(spans, create)[0];
      assert.equal(insert?.name, 'INSERT orders');

      // Nothing secret left: neither the bound or inlined value, nor the password.
      assert.equal(receiver.payloadIncludes(secret), false, 'a query value was exported');
      assert.equal(receiver.payloadIncludes(db.password), false, 'the password was exported');
      // The query at module load made no trace of its own.
      assert.equal(
        receiver.spans.some((s) => String(s.attributes['db.statement']).includes('warm_up')),
        false,
      );
    } finally {
      await fn.cleanup();
    }
  });

  test('errors on nodejs24.x: ERROR spans with the SQLSTATE, and the runtime gets the same error as without the layer', async () => {
    const traced = await startPgFunction({ runtime: 'nodejs24.x', fixture: 'pg-cjs', env: env() });
    const plain = await startPgFunction({
      runtime: 'nodejs24.x',
      fixture: 'pg-cjs',
      env: env(),
      traced: false,
    });
    try {
      const closedPort = await closedPortUrl();
      const cases = [
        { event: { action: 'bad-query' }, code: '42601', message: 'syntax_error (SQLSTATE 42601)' },
        {
          event: {
            action: 'constraint',
            id: 900_001 + Math.floor(Math.random() * 1000),
            item: 'dup-secret-x',
          },
          code: '23505',
          message: 'unique_violation (SQLSTATE 23505)',
        },
        { event: { action: 'down', url: closedPort }, code: undefined, message: undefined },
      ];
      for (const { event, code, message } of cases) {
        const header = traceHeader(true);
        const withLayer = await traced.invoke(event, { traceHeader: header.header });
        const without = await plain.invoke(
          event.action === 'constraint' ? { ...event, id: (event.id as number) + 5000 } : event,
        );
        assert.equal(withLayer.status, 'error', traced.output());
        assert.equal(withLayer.error?.errorType, without.error?.errorType);
        assert.equal(withLayer.error?.errorMessage, without.error?.errorMessage);
        const spans = receiver.spans.filter((s) => s.traceId === header.traceId);
        const invocation = find(spans, 'invocation span', (s) => s.kind === SERVER);
        assert.equal(invocation.status.code, ERROR);
        const failed = find(
          spans,
          `failed pg span (${event.action})`,
          (s) => s.kind === CLIENT && s.status.code === ERROR,
        );
        assert.equal(failed.parentSpanId, invocation.spanId);
        if (code !== undefined) assertSqlAttributes(failed, db);
        else assert.equal(failed.attributes['db.system'], 'postgresql');
        const exception = failed.events.find((e) => e.name === 'exception');
        assert.ok(exception, 'no exception event');
        if (code !== undefined) {
          assert.equal(failed.attributes['db.response.status_code'], code);
          assert.equal(failed.attributes['error.type'], code);
          assert.equal(failed.status.message, message);
          assert.equal(exception.attributes['exception.type'], 'DatabaseError');
        } else {
          // Postgres refusing connections: the connection span says so.
          assert.equal(failed.name, 'pg.connect');
          assert.equal(failed.attributes['error.type'], 'ECONNREFUSED');
          assert.match(failed.status.message, /ECONNREFUSED/);
        }
      }
      assert.equal(receiver.payloadIncludes('dup-secret-x'), false, 'a bound value leaked through an error');
    } finally {
      await traced.cleanup();
      await plain.cleanup();
    }
  });

  for (const runtime of ['nodejs24.x', 'nodejs22.x'] as const) {
    test(`ESM on ${runtime}: import pg and Sequelize (with dialectModule: pg), spans as for CommonJS`, async () => {
      const fn = await startPgFunction({ runtime, fixture: 'pg-esm', env: env() });
      try {
        const secret = `esm-${randomBytes(6).toString('hex')}`;
        const header = traceHeader(true);
        const result = await fn.invoke({ item: secret }, { traceHeader: header.header });
        assert.equal(result.status, 'success', fn.output());
        assert.deepEqual(result.payload, { found: 0, count: 0 });
        const spans = receiver.spans.filter((s) => s.traceId === header.traceId);
        const invocation = find(spans, 'invocation span', (s) => s.kind === SERVER);
        const findAll = find(spans, 'Order.findAll', (s) => s.name === 'Order.findAll');
        assert.equal(findAll.parentSpanId, invocation.spanId);
        assertSqlAttributes(childrenOf(spans, findAll)[0] as ReceivedSpan, db);
        const raw = find(spans, 'raw pg query', (s) =>
          String(s.attributes['db.statement']).includes('count(*)'),
        );
        assert.equal(raw.parentSpanId, invocation.spanId);
        const transaction = find(spans, 'Sequelize transaction', (s) => s.name === 'Sequelize transaction');
        assert.ok(childrenOf(spans, transaction).some((s) => s.name === 'Order.create'));
        assert.equal(receiver.payloadIncludes(secret), false);
        assert.equal(receiver.payloadIncludes(db.password), false);
      } finally {
        await fn.cleanup();
      }
    });
  }

  test('OTEL_NODE_DISABLED_INSTRUMENTATIONS=sequelize and OTEL_LAMBDA_XRAY_DB_STATEMENT=off', async () => {
    const fn = await startPgFunction({
      runtime: 'nodejs24.x',
      fixture: 'pg-cjs',
      env: env({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'sequelize', OTEL_LAMBDA_XRAY_DB_STATEMENT: 'off' }),
    });
    try {
      const header = traceHeader(true);
      const result = await fn.invoke({ action: 'work', item: 'x' }, { traceHeader: header.header });
      assert.equal(result.status, 'success', fn.output());
      const spans = receiver.spans.filter((s) => s.traceId === header.traceId);
      const invocation = find(spans, 'invocation span', (s) => s.kind === SERVER);
      assert.deepEqual(
        spans.filter((s) => s.name.startsWith('Order.') || s.name.startsWith('Sequelize')).map((s) => s.name),
        [],
      );
      const queries = spans.filter((s) => s.name === 'SELECT orders');
      assert.equal(queries.length, 3, 'the findAll SELECT, the raw one and the named one');
      for (const query of queries) {
        assert.equal(query.parentSpanId, invocation.spanId);
        assert.equal(query.attributes['db.statement'], undefined);
        assert.equal(query.attributes['db.query.text'], undefined);
        assertSqlAttributes(query, db);
      }
    } finally {
      await fn.cleanup();
    }
  });
});

/** A postgres:// URL to a port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  const port = typeof address === 'object' && address !== null ? address.port : 1;
  return `postgres://postgres:pw@127.0.0.1:${port}/test`;
}
