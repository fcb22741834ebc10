import type { Span } from '@opentelemetry/api';

/** Where a PostgreSQL connection goes, as instrumentation-pg hands it to its hooks. */
export interface PgConnectionInfo {
  readonly database?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
}

/**
 * The pre-1.26 database attributes the collector's `awsxray` exporter reads to build the X-Ray
 * `sql` block and to name the subsegment `<db.name>@<host>`, beside the stable ones
 * instrumentation-pg writes (`db.system.name`, `db.namespace`, `server.*`). The connection string
 * is built from host, port and database only: it never carries the user's password.
 */
export function setXRaySqlAttributes(span: Span, connection: PgConnectionInfo): void {
  span.setAttribute('db.system', 'postgresql');
  span.setAttribute('db.system.name', 'postgresql');
  if (connection.database) span.setAttribute('db.name', connection.database);
  if (connection.user) span.setAttribute('db.user', connection.user);
  span.setAttribute('db.connection_string', connectionString(connection));
}

/** `postgresql://host:port/database`; a Unix socket directory goes in the `host` parameter. */
export function connectionString(connection: PgConnectionInfo): string {
  const host = connection.host ?? 'localhost';
  const database = encodeURIComponent(connection.database ?? '');
  const port = connection.port !== undefined ? `:${connection.port}` : '';
  if (host.startsWith('/'))
    return `postgresql://localhost${port}/${database}?host=${encodeURIComponent(host)}`;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return `postgresql://${bracketed}${port}/${database}`;
}

/**
 * Removes an attribute an instrumentation already set (the API has no call for it): the SDK's
 * span keeps its attributes in a plain object, which its exporters read when the span ends.
 */
export function removeAttribute(span: Span, key: string): void {
  const attributes = (span as unknown as { attributes?: Record<string, unknown> }).attributes;
  if (attributes !== undefined && typeof attributes === 'object' && key in attributes) delete attributes[key];
}
