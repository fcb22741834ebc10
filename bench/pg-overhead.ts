/**
 * Per-query cost of the pg and Sequelize instrumentations: the same queries against a real
 * PostgreSQL, in one process, alternating rounds with the instrumentations enabled (tracer
 * provider, the layer's span processor, hooks, sanitizer) and disabled (the original, unpatched
 * functions), and prints medians. Each traced round runs under one parent span, as an invocation.
 *
 * Usage: npm run build && node build/bench/pg-overhead.js [--rounds 9 --queries 500]
 * (any node binary runs it, e.g. the nodejs24.x one in .cache/runtimes/)
 */

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '../src/config/load-config.js';
import { ExportHealth } from '../src/export/export-health.js';
import { LambdaSpanProcessor } from '../src/export/lambda-span-processor.js';
import { createPgInstrumentations } from '../src/instrumentations/pg.js';
import { createSequelizeInstrumentations } from '../src/instrumentations/sequelize.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '9' }, queries: { type: 'string', default: '500' } },
});
const rounds = Number(values.rounds);
const queriesPerRound = Number(values.queries);

let exportedSpans = 0;
const processor = new LambdaSpanProcessor({
  // Spans are counted, not encoded: the export cost belongs to the exporter, measured elsewhere.
  createExporter: () => ({
    export: (spans, done) => {
      exportedSpans += spans.length;
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => {},
  }),
  maxQueuedSpans: 100_000,
  health: new ExportHealth(),
});
const provider = new NodeTracerProvider({ spanProcessors: [processor] });
provider.register();
const { config } = loadConfig({});
const instrumentations: Instrumentation[] = [
  ...createPgInstrumentations(config),
  ...createSequelizeInstrumentations(config),
];
for (const instrumentation of instrumentations) instrumentation.setTracerProvider(provider);

// Loaded after the instrumentations, as a function's handler is, and with require: an ESM import
// of sequelize needs the layer's ESM hook, which this script does not register.
const require = createRequire(import.meta.url);
const pg = require('pg') as typeof import('pg');
const { DataTypes, Sequelize } = require('sequelize') as typeof import('sequelize');
const { createTestDatabase } = await import('../test/helpers/postgres.js');

const db = await createTestDatabase();
const client = new pg.Client({ connectionString: db.url });
await client.connect();
await client.query('CREATE TABLE orders (id serial PRIMARY KEY, item text, qty int)');
await client.query("INSERT INTO orders (item, qty) SELECT 'item-' || g, g FROM generate_series(1, 20) g");
const sequelize = new Sequelize(db.url, { logging: false, pool: { max: 1 } });
const Order = sequelize.define(
  'Order',
  { item: DataTypes.STRING, qty: DataTypes.INTEGER },
  {
    tableName: 'orders',
    timestamps: false,
  },
);

type Workload = (i: number) => Promise<unknown>;
const workloads: Record<string, Workload> = {
  'pg client.query (parameterised SELECT)': (i) =>
    client.query('SELECT id, item FROM orders WHERE qty = $1', [(i % 20) + 1]),
  "pg client.query (literals: 'x', 42)": (i) =>
    client.query(`SELECT id FROM orders WHERE item = 'item-${i % 20}' AND qty > ${i % 7}`),
  'Sequelize Model.findAll': (i) => Order.findAll({ where: { qty: (i % 20) + 1 } }),
};

/** Median microseconds per query over one round. */
async function round(workload: Workload, traced: boolean): Promise<number> {
  const samples: number[] = [];
  const run = async () => {
    for (let i = 0; i < queriesPerRound; i++) {
      const start = performance.now();
      await workload(i);
      samples.push((performance.now() - start) * 1000);
    }
  };
  if (traced) {
    const parent = trace.getTracer('bench').startSpan('invocation');
    await context.with(trace.setSpan(context.active(), parent), run);
    parent.end();
    await processor.forceFlush();
  } else {
    await run();
  }
  return median(samples);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function setTracing(on: boolean): void {
  for (const instrumentation of instrumentations) {
    if (on) instrumentation.enable();
    else instrumentation.disable();
  }
}

try {
  console.log(
    `${rounds} alternating rounds of ${queriesPerRound} queries each, Node ${process.version}, PostgreSQL at ${db.host}:${db.port}${db.embedded ? ' (embedded)' : ''}`,
  );
  console.log('| workload | untraced µs/query | traced µs/query | overhead µs/query | ratio | spans/query |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [name, workload] of Object.entries(workloads)) {
    const plain: number[] = [];
    const traced: number[] = [];
    // Warm-up, both ways, so the JIT has seen both paths before anything is measured.
    setTracing(true);
    await round(workload, true);
    setTracing(false);
    await round(workload, false);
    const exportedBefore = exportedSpans;
    for (let r = 0; r < rounds; r++) {
      setTracing(false);
      plain.push(await round(workload, false));
      setTracing(true);
      traced.push(await round(workload, true));
    }
    const p = median(plain);
    const t = median(traced);
    // Proof that traced rounds were traced and untraced ones not: spans per query, parents excluded.
    const perQuery = (exportedSpans - exportedBefore - rounds) / (rounds * queriesPerRound);
    console.log(
      `| ${name} | ${p.toFixed(0)} | ${t.toFixed(0)} | +${(t - p).toFixed(0)} | x${(t / p).toFixed(2)} | ${perQuery.toFixed(2)} |`,
    );
  }
} finally {
  await client.end();
  await sequelize.close();
  await db.close();
  await provider.shutdown();
}
