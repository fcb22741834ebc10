import type { Span } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation, type PgRequestHookInformation } from '@opentelemetry/instrumentation-pg';
import type { Config, DbStatementMode } from '../config/load-config.js';
import { removeAttribute, setXRaySqlAttributes } from './db-attributes.js';
import { describeErrorsOf } from './pg-errors.js';
import { sanitizeSql, statementFor } from './sql-sanitize.js';
import { spanNameFor, summarizeSql } from './sql-summary.js';

/**
 * `pg` and `pg-pool`: a CLIENT span per `Client#query` / `Pool#query` (promise, callback, query
 * config objects, named statements), `pg.connect` for connection setup and `pg-pool.connect` for
 * pool acquisition, each a child of the active span, built by instrumentation-pg and completed
 * through its hooks for X-Ray (see {@link pgHooks}).
 */
export function createPgInstrumentations(config: Readonly<Config>): Instrumentation[] {
  return [
    new PgInstrumentation({
      // A query at module load has no invocation to belong to: without a parent it would become a
      // stray one-span trace in X-Ray, so it is not traced at all.
      requireParentSpan: true,
      // Bound values are never recorded (the default, kept explicit: they are often personal data).
      enhancedDatabaseReporting: false,
      ...pgHooks(config.dbStatement),
    }),
  ];
}

/**
 * The hooks that turn instrumentation-pg's spans into well-formed X-Ray SQL subsegments: a
 * readable name (`SELECT orders`), the statement as `OTEL_LAMBDA_XRAY_DB_STATEMENT` allows, the
 * attributes the collector's `awsxray` exporter reads, and errors with their SQLSTATE.
 */
export function pgHooks(mode: DbStatementMode) {
  return {
    requestHook(span: Span, info: PgRequestHookInformation): void {
      setXRaySqlAttributes(span, info.connection);
      describeErrorsOf(span, mode);
      const text = typeof info.query.text === 'string' ? info.query.text : '';
      // Names and summaries come from sanitized text even in raw mode: a span name is never a value.
      const sanitized = sanitizeSql(text);
      const summary = summarizeSql(sanitized);
      span.updateName(spanNameFor(summary, 'postgresql'));
      if (summary.operation !== undefined) {
        span.setAttribute('db.operation.name', summary.operation);
        span.setAttribute('db.query.summary', spanNameFor(summary, summary.operation));
      }
      if (summary.collection !== undefined) span.setAttribute('db.collection.name', summary.collection);
      const statement = statementFor(text, mode, sanitized);
      if (statement === undefined) {
        removeAttribute(span, 'db.query.text');
      } else {
        span.setAttribute('db.query.text', statement);
        span.setAttribute('db.statement', statement);
      }
    },
    connectionHook(span: Span, info: { connection: PgRequestHookInformation['connection'] }): void {
      setXRaySqlAttributes(span, info.connection);
      describeErrorsOf(span, mode);
    },
    responseHook(span: Span, info: { data: { rowCount?: number | null } }): void {
      const rows = info.data?.rowCount;
      if (typeof rows === 'number') span.setAttribute('db.response.returned_rows', rows);
    },
  };
}
