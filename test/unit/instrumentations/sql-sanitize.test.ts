import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import {
  MAX_STATEMENT_LENGTH,
  sanitizeSql,
  statementFor,
} from '../../../src/instrumentations/sql-sanitize.js';
import { spanNameFor, summarizeSql } from '../../../src/instrumentations/sql-summary.js';

const cases: [string, string, string][] = [
  [
    'numbers',
    'SELECT * FROM t WHERE a = 42 AND b > 3.14 AND c < .5 AND d = 1e-5',
    'SELECT * FROM t WHERE a = ? AND b > ? AND c < ? AND d = ?',
  ],
  ['hex and separators', 'SELECT 0x1F, 1_000_000', 'SELECT ?, ?'],
  ['strings with doubled quotes', "SELECT 'it''s', 'a'", 'SELECT ?, ?'],
  ['E strings with backslash escapes', "SELECT E'a\\'b' , 1", 'SELECT ? , ?'],
  ['prefixed strings', "SELECT B'0101', X'ff', N'x', U&'d\\0061t'", 'SELECT ?, ?, ?, ?'],
  ['dollar quoting', "SELECT $$a 'quoted' 5$$, $fn$ body $$ inner $fn$", 'SELECT ?, ?'],
  [
    'placeholders stay',
    'SELECT * FROM t WHERE a = $1 AND b = $12',
    'SELECT * FROM t WHERE a = $1 AND b = $12',
  ],
  ['identifiers with digits and $ stay', 'SELECT t1.col_2, a$b FROM t1', 'SELECT t1.col_2, a$b FROM t1'],
  ['quoted identifiers stay', 'SELECT "weird ""name"" 5" FROM "T1"', 'SELECT "weird ""name"" 5" FROM "T1"'],
  ['line comments dropped', "SELECT 1 -- secret 'x'\nFROM t", 'SELECT ? \nFROM t'],
  ['nested block comments dropped', "SELECT /* a /* b 'c' */ d */ 2", 'SELECT   ?'],
  ['casts', "SELECT '5'::int, 7::text", 'SELECT ?::int, ?::text'],
  ['no literal: same string', 'SELECT id FROM orders', 'SELECT id FROM orders'],
  ['unterminated string swallows the rest', "SELECT 'abc", 'SELECT ?'],
  ['unterminated dollar quote swallows the rest', 'SELECT $x$ abc', 'SELECT ?'],
  [
    'Sequelize where',
    `SELECT "id" FROM "orders" AS "Order" WHERE "Order"."item" = 'secret' LIMIT 1;`,
    'SELECT "id" FROM "orders" AS "Order" WHERE "Order"."item" = ? LIMIT ?;',
  ],
];

for (const [name, input, expected] of cases) {
  test(`sanitizeSql: ${name}`, () => {
    assert.equal(sanitizeSql(input), expected);
  });
}

test('sanitizeSql never throws and stays linear on hostile input', () => {
  const hostile = `${"'".repeat(50_000)}${'$'.repeat(50_000)}${'/*'.repeat(20_000)}`;
  const start = process.hrtime.bigint();
  assert.equal(typeof sanitizeSql(hostile), 'string');
  assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 500, 'took more than 500 ms');
  for (const weird of ['', "'", '$', '$$', '--', '/*', 'E', "E'", '.', '1e', 'U&']) sanitizeSql(weird);
});

test('statementFor: sanitized by default, raw on request, off records nothing, long text cut', () => {
  assert.equal(statementFor("SELECT 'x'", 'sanitized'), 'SELECT ?');
  assert.equal(statementFor("SELECT 'x'", 'raw'), "SELECT 'x'");
  assert.equal(statementFor("SELECT 'x'", 'off'), undefined);
  assert.equal(statementFor(`SELECT ${'a,'.repeat(5000)}b`, 'raw')?.length, MAX_STATEMENT_LENGTH);
});

test('summarizeSql: the operation and first table, as span names', () => {
  const name = (sql: string) => spanNameFor(summarizeSql(sql), 'postgresql');
  assert.equal(name('SELECT id FROM orders WHERE x = ?'), 'SELECT orders');
  assert.equal(name('select * from public.orders o join items i on ?'), 'SELECT public.orders');
  assert.equal(name('INSERT INTO "orders" ("id") VALUES (DEFAULT)'), 'INSERT orders');
  assert.equal(name('UPDATE "orders" SET "qty"=$1'), 'UPDATE orders');
  assert.equal(name('DELETE FROM orders'), 'DELETE orders');
  assert.equal(name('CREATE TABLE IF NOT EXISTS "orders" (id int)'), 'CREATE orders');
  assert.equal(name('TRUNCATE TABLE orders'), 'TRUNCATE orders');
  assert.equal(name('START TRANSACTION;'), 'START TRANSACTION');
  assert.equal(name('COMMIT;'), 'COMMIT');
  assert.equal(name('SELECT ?'), 'SELECT');
  assert.equal(name('SELECT EXTRACT(YEAR FROM created) FROM orders'), 'SELECT orders');
  assert.equal(name(`SELECT ${'a, '.repeat(100)}b FROM wide`), 'SELECT wide');
  assert.equal(name('SELECT * FROM (SELECT ? ) s'), 'SELECT');
  assert.equal(name('  '), 'postgresql');
  assert.equal(name('?'), 'postgresql');
});

test('OTEL_LAMBDA_XRAY_DB_STATEMENT: sanitized by default, case-insensitive, a bad value warns and falls back', () => {
  assert.equal(loadConfig({}).config.dbStatement, 'sanitized');
  assert.equal(loadConfig({ OTEL_LAMBDA_XRAY_DB_STATEMENT: 'RAW' }).config.dbStatement, 'raw');
  assert.equal(loadConfig({ OTEL_LAMBDA_XRAY_DB_STATEMENT: 'off' }).config.dbStatement, 'off');
  const { config, warnings } = loadConfig({ OTEL_LAMBDA_XRAY_DB_STATEMENT: 'everything' });
  assert.equal(config.dbStatement, 'sanitized');
  assert.deepEqual(warnings, ['OTEL_LAMBDA_XRAY_DB_STATEMENT value "everything" invalid, using sanitized']);
});
