import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../../helpers/postgres.js';

// The database helper every Postgres test uses. A forced drop while a connection was still
// closing once failed CI with an uncaught 57P01 ("terminating connection due to administrator
// command") from a pool that had already resolved `end()`.

async function databaseExists(db: { url: string; database: string }): Promise<boolean> {
  const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, '/postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.database]);
    return rows.length === 1;
  } finally {
    await admin.end();
  }
}

test('close waits for a session on the database to end instead of terminating it', async () => {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  const errors: Error[] = [];
  client.on('error', (error) => errors.push(error));
  await client.connect();
  await client.query('SELECT 1');

  const closing = db.close();
  // The session ends a moment after close() started, as a pool's idle connection does.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await databaseExists(db), true, 'dropped while a session was open');
  await client.end();
  await closing;

  assert.deepEqual(errors, []);
  assert.equal(await databaseExists(db), false);
});

test('a session that never ends is terminated once the wait is over', async () => {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  const errors: Array<Error & { code?: string }> = [];
  client.on('error', (error) => errors.push(error));
  await client.connect();

  await db.close({ sessionsGoneWithinMs: 100 });

  assert.equal(await databaseExists(db), false);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(errors[0]?.code, '57P01');
  await client.end().catch(() => {});
});
