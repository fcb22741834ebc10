import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '../../../src/config/load-config.js';
import { createPgInstrumentations } from '../../../src/instrumentations/pg.js';
import { createSequelizeInstrumentations } from '../../../src/instrumentations/sequelize.js';
import { toSegmentDocuments } from '../../../src/xray/segment-document.js';
import type { TestDatabase } from '../../helpers/postgres.js';
import { assertValidDocument } from '../xray/helpers.js';

// In-process, against a real PostgreSQL: the query forms and parenting rules, faster than one
// function per case. (test/e2e/postgres.test.ts runs the same through the layer and a runtime.)
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
const { config } = loadConfig({});
for (const instrumentation of [
  ...createPgInstrumentations(config),
  ...createSequelizeInstrumentations(config),
]) {
  instrumentation.setTracerProvider(provider);
}
// Required after the instrumentations are enabled, as a handler's libraries are.
const require = createRequire(import.meta.url);
const pg = require('pg') as typeof import('pg');
const { Sequelize, DataTypes, DatabaseError } = require('sequelize') as typeof import('sequelize');
const tracer = trace.getTracer('test');

let db: TestDatabase;
let pool: import('pg').Pool;
before(async () => {
  const { createTestDatabase } = await import('../../helpers/postgres.js');
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await pool.query('CREATE TABLE orders (id serial PRIMARY KEY, item text, qty int)');
});
after(async () => {
  await pool?.end();
  await db?.close();
});

/** Runs `work` under a fresh manual span and returns the spans it made beneath it. */
async function under(work: () => Promise<unknown>): Promise<{ parent: ReadableSpan; spans: ReadableSpan[] }> {
  exporter.reset();
  const span = tracer.startSpan('manual');
  await context.with(trace.setSpan(context.active(), span), work);
  span.end();
  const spans = exporter.getFinishedSpans();
  const parent = spans.find((s) => s.name === 'manual');
  assert.ok(parent);
  return { parent, spans: spans.filter((s) => s !== parent) };
}

test('without a parent span (code at module load) pg and Sequelize make no spans', async () => {
  exporter.reset();
  await pool.query('SELECT 1');
  const sequelize = new Sequelize(db.url, { logging: false });
  await sequelize.query('SELECT 2');
  await sequelize.close();
  assert.deepEqual(
    exporter.getFinishedSpans().map((s) => s.name),
    [],
  );
});

test('every query form is a CLIENT span under the active manual span', async () => {
  // A pool of its own, so that its connection is opened under the span.
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  const { parent, spans } = await under(async () => {
    await pool.query('SELECT id FROM orders WHERE qty = $1', [1]);
    await new Promise((resolve, reject) =>
      pool.query('SELECT id FROM orders', (err: Error | undefined, res: unknown) =>
        err ? reject(err) : resolve(res),
      ),
    );
    const client = await pool.connect();
    try {
      await client.query({ text: 'INSERT INTO orders (item, qty) VALUES ($1, $2)', values: ['a', 1] });
      await new Promise((resolve, reject) =>
        client.query(
          { name: 'by-item', text: 'SELECT * FROM orders WHERE item = $1', values: ['a'] },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    } finally {
      client.release();
    }
  });
  const queries = spans.filter((s) => s.name !== 'pg-pool.connect' && s.name !== 'pg.connect');
  assert.deepEqual(
    queries.map((s) => s.name),
    ['SELECT orders', 'SELECT orders', 'INSERT orders', 'SELECT orders'],
  );
  for (const span of spans) {
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.attributes['db.system'], 'postgresql');
    assert.equal(
      span.attributes['db.connection_string'],
      `postgresql://${db.host}:${db.port}/${db.database}`,
    );
  }
  for (const query of queries) assert.equal(query.parentSpanContext?.spanId, parent.spanContext().spanId);
  assert.equal(spans.filter((s) => s.name === 'pg-pool.connect').length, 3, 'pool acquisitions');
  assert.ok(
    spans.some((s) => s.name === 'pg.connect'),
    'no connection span',
  );
  await pool.end();
});

test('pg-native absent: pg.native is null and pure-JS pg is traced as usual', async () => {
  assert.equal(pg.native, null);
  const { spans } = await under(() => pool.query('SELECT 1'));
  assert.ok(spans.some((s) => s.name === 'SELECT'));
});

test('Sequelize raw query: a span named after the statement, values gone, pg span beneath', async () => {
  const sequelize = new Sequelize(db.url, { logging: false, dialectModule: pg });
  try {
    const { parent, spans } = await under(() =>
      sequelize.query("SELECT id FROM orders WHERE item = 'secret' AND qty = :qty", {
        replacements: { qty: 77 },
      }),
    );
    const raw = spans.find((s) => s.name === 'Sequelize SELECT orders');
    assert.ok(raw, spans.map((s) => s.name).join());
    assert.equal(raw.kind, SpanKind.INTERNAL);
    assert.equal(raw.parentSpanContext?.spanId, parent.spanContext().spanId);
    // Sequelize substitutes `:qty` after this span starts; the pg span below sees the value, as `?`.
    assert.equal(raw.attributes['db.query.text'], 'SELECT id FROM orders WHERE item = ? AND qty = :qty');
    const query = spans.find((s) => s.parentSpanContext?.spanId === raw.spanContext().spanId);
    assert.equal(query?.name, 'SELECT orders');
    assert.equal(query?.attributes['db.statement'], 'SELECT id FROM orders WHERE item = ? AND qty = ?');
    assert.equal(JSON.stringify(spans.map((s) => s.attributes)).includes('secret'), false);
  } finally {
    await sequelize.close();
  }
});

test('a submittable query (pg.Query, as pg-cursor and pg-query-stream pass): its span ends when pg is done with it', async () => {
  const client = await pool.connect();
  try {
    const { spans } = await under(async () => {
      const rows: unknown[] = [];
      const ok = client.query(new pg.Query('SELECT generate_series(1, 3) AS n'));
      await new Promise<void>((resolve, reject) => {
        ok.on('row', (row: unknown) => rows.push(row));
        ok.on('end', () => resolve());
        ok.on('error', reject);
      });
      assert.equal(rows.length, 3);
      const failing = client.query(new pg.Query("SELECT 'secret-4111'::int"));
      const error = await new Promise<unknown>((resolve) => failing.on('error', resolve));
      assert.equal(
        (error as { code?: string }).code,
        '22P02',
        'the caller gets the error as without tracing',
      );
    });
    const select = spans.filter((s) => s.kind === SpanKind.CLIENT && s.name.startsWith('SELECT'));
    assert.equal(select.length, 2, spans.map((s) => s.name).join(', '));
    assert.equal(select[0]?.status.code, SpanStatusCode.UNSET);
    assert.equal(select[1]?.status.code, SpanStatusCode.ERROR);
    assert.equal(select[1]?.attributes['db.response.status_code'], '22P02');
    assert.ok(
      !JSON.stringify({ s: select[1]?.status, a: select[1]?.attributes, e: select[1]?.events }).includes(
        'secret',
      ),
    );
  } finally {
    client.release();
  }
});

test('Sequelize: a failing query fails its spans and reaches the caller unchanged', async () => {
  const sequelize = new Sequelize(db.url, { logging: false });
  const Order = sequelize.define('Order', { item: DataTypes.STRING }, { tableName: 'no_such_table' });
  try {
    let caught: unknown;
    const { spans } = await under(async () => {
      try {
        await Order.findAll();
      } catch (error) {
        caught = error;
      }
    });
    assert.ok(caught instanceof DatabaseError);
    assert.equal(
      (caught as InstanceType<typeof DatabaseError>).original.message,
      'relation "no_such_table" does not exist',
    );
    const findAll = spans.find((s) => s.name === 'Order.findAll');
    assert.equal(findAll?.status.code, SpanStatusCode.ERROR);
    const query = spans.find((s) => s.name === 'SELECT no_such_table');
    assert.equal(query?.status.code, SpanStatusCode.ERROR);
    assert.equal(query?.attributes['db.response.status_code'], '42P01');
    assert.equal(query?.status.message, 'undefined_table (SQLSTATE 42P01)');
  } finally {
    await sequelize.close();
  }
});

test('Sequelize: a value PostgreSQL quotes in its error message stays out of the spans', async () => {
  const sequelize = new Sequelize(db.url, { logging: false });
  const Order = sequelize.define(
    'Order',
    { qty: DataTypes.INTEGER },
    { tableName: 'orders', timestamps: false },
  );
  try {
    let caught: unknown;
    const { spans } = await under(async () => {
      await Order.findAll({ where: { qty: '4111-1111-1111-1111' } }).catch((error) => {
        caught = error;
      });
    });
    // The caller still gets PostgreSQL's own words.
    assert.match(
      String((caught as Error)?.message),
      /invalid input syntax for type integer: "4111-1111-1111-1111"/,
    );
    const failed = spans.filter((s) => s.status.code === SpanStatusCode.ERROR);
    assert.deepEqual(failed.map((s) => s.name).sort(), ['Order.findAll', 'SELECT orders']);
    for (const span of failed) {
      const seen = JSON.stringify({ status: span.status, attributes: span.attributes, events: span.events });
      assert.ok(!seen.includes('4111'), `${span.name}: ${seen}`);
      for (const document of toSegmentDocuments(span, {}))
        assert.ok(!JSON.stringify(document).includes('4111'));
    }
  } finally {
    await sequelize.close();
  }
});

test('a managed transaction that throws: the transaction span fails, the caller gets its own error', async () => {
  const sequelize = new Sequelize(db.url, { logging: false });
  try {
    const mine = new RangeError('changed my mind');
    let caught: unknown;
    const { spans } = await under(async () => {
      try {
        await sequelize.transaction(async () => {
          throw mine;
        });
      } catch (error) {
        caught = error;
      }
    });
    assert.equal(caught, mine);
    const transaction = spans.find((s) => s.name === 'Sequelize transaction');
    assert.equal(transaction?.status.code, SpanStatusCode.ERROR);
    assert.ok(
      spans.some((s) => s.name === 'Sequelize ROLLBACK'),
      spans.map((s) => s.name).join(),
    );
  } finally {
    await sequelize.close();
  }
});

test('as X-Ray documents: each query a schema-valid SQL subsegment, the model operation a named local one', async () => {
  const sequelize = new Sequelize(db.url, { logging: false });
  const Order = sequelize.define(
    'Order',
    { item: DataTypes.STRING },
    { tableName: 'orders', timestamps: false },
  );
  try {
    const { spans } = await under(() => Order.findAll({ where: { item: 'card-4111' } }));
    const findAll = spans.find((s) => s.name === 'Order.findAll');
    const query = spans.find((s) => s.name === 'SELECT orders');
    assert.ok(findAll && query, spans.map((s) => s.name).join());
    const [subsegment] = toSegmentDocuments(query);
    assertValidDocument(subsegment);
    assert.equal(subsegment?.name, `${db.database}@${db.host}`);
    assert.equal(subsegment?.namespace, 'remote');
    assert.deepEqual(subsegment?.sql, {
      url: `postgresql://${db.host}:${db.port}/${db.database}`,
      sanitized_query: 'SELECT "id", "item" FROM "orders" AS "Order" WHERE "Order"."item" = ?;',
      database_type: 'postgresql',
      user: db.user,
    });
    const [operation] = toSegmentDocuments(findAll);
    assertValidDocument(operation);
    assert.equal(operation?.name, 'Order.findAll');
    assert.equal(operation?.sql, undefined);
    assert.equal(operation?.namespace, undefined);
    assert.equal(JSON.stringify([subsegment, operation]).includes('card-4111'), false);
  } finally {
    await sequelize.close();
  }
});
