import { type AttributeReader, truncate } from './attribute-reader.js';
import { withoutUserInfo } from './http-block.js';
import type { XRaySql } from './segment-types.js';

/** The schema caps `sql.user` at 250 characters. */
const MAX_SQL_USER = 250;

/**
 * `db.system` values of SQL databases: the collector's list (semconv up to 1.24) plus the stable
 * `db.system.name` spellings. Only these get an `sql` block; other databases (DynamoDB, Redis...)
 * keep their attributes in metadata.
 */
const SQL_SYSTEMS = new Set([
  'db2',
  'derby',
  'hive',
  'mariadb',
  'mssql',
  'mysql',
  'oracle',
  'postgresql',
  'sqlite',
  'teradata',
  'other_sql',
  'ibm.db2',
  'microsoft.sql_server',
  'oracle.db',
  'cockroachdb',
  'h2database',
  'hsqldb',
  'spanner',
  'trino',
]);

const SQL_KEYS = [
  'db.system',
  'db.system.name',
  'db.name',
  'db.namespace',
  'db.user',
  'db.statement',
  'db.query.text',
  'db.connection_string',
  'db.version',
] as const;

/**
 * Builds the `sql` block of a span that queried an SQL database (`db.system` or `db.system.name`
 * in the SQL list), or returns `undefined`.
 *
 * - `sanitized_query` ← `db.query.text` / `db.statement` (instrumentations record the
 *   parameterised text, never the bound values),
 * - `url` ← `db.connection_string` without `user:password@` or `password=` parts; when absent,
 *   `<system>://<server.address|net.peer.name>[:port]/<database>`,
 * - `user` ← `db.user`, `database_type` ← the system, `database_version` ← `db.version`.
 *
 * The collector writes the span name as `url` and the raw connection string (with any password
 * in it) as `connection_string`; the X-Ray guide asks for the connection URL without password,
 * which is what this writes.
 */
export function makeSqlBlock(attrs: AttributeReader): XRaySql | undefined {
  const system = attrs.string('db.system.name', 'db.system');
  if (system === undefined || !SQL_SYSTEMS.has(system)) return undefined;
  attrs.consume(...SQL_KEYS);

  const sql: XRaySql = { database_type: system };
  const url = databaseUrl(attrs, system);
  if (url !== undefined) sql.url = url;
  const query = attrs.string('db.query.text', 'db.statement');
  if (query !== undefined) sql.sanitized_query = query;
  const user = attrs.string('db.user');
  if (user !== undefined) sql.user = truncate(user, MAX_SQL_USER);
  const version = attrs.string('db.version');
  if (version !== undefined) sql.database_version = version;
  return sql;
}

function databaseUrl(attrs: AttributeReader, system: string): string | undefined {
  const connection = attrs.string('db.connection_string');
  if (connection !== undefined) return withoutPassword(connection);

  const host = attrs.string('server.address', 'net.peer.name');
  if (host === undefined) return undefined;
  const port = attrs.string('server.port', 'net.peer.port');
  const database = attrs.string('db.namespace', 'db.name');
  return `${system}://${host}${port === undefined ? '' : `:${port}`}/${database ?? ''}`;
}

/**
 * Removes credentials from a connection string: the `user:password@` (or `user@`) of a URL form
 * (to the authority's last `@`, as URL parsers read it), Oracle's `user/password@`, and the value
 * of `password`/`pwd` in a key-value form (`Server=...;Password = ...`, `host=... password=...`).
 */
export function withoutPassword(connection: string): string {
  return withoutUserInfo(connection)
    .replace(/^((?:jdbc:)?oracle:[a-z0-9]+:)[^@/]+\/[^@]*@/i, '$1@')
    .replace(/(^|[;&?\s])(password|pwd)\s*=\s*(?:"[^"]*"|'[^']*'|[^;&\s]*)/gi, '$1$2=****');
}
