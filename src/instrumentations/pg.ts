import type { Span } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation, type PgRequestHookInformation } from '@opentelemetry/instrumentation-pg';
import type { Config, DbStatementMode } from '../config/load-config.js';
import { removeAttribute, setXRaySqlAttributes } from './db-attributes.js';
import { describeErrorsOf, recordPgError } from './pg-errors.js';
import { sanitizeSql, statementFor } from './sql-sanitize.js';
import { spanNameFor, summarizeSql } from './sql-summary.js';

/**
 * `pg` and `pg-pool`: a CLIENT span per `Client#query` / `Pool#query` (promise, callback, query
 * config objects, named statements), `pg.connect` for connection setup and `pg-pool.connect` for
 * pool acquisition, each a child of the active span, built by instrumentation-pg and completed
 * through its hooks for X-Ray (see {@link pgHooks}).
 */
export function createPgInstrumentations(config: Readonly<Config>): Instrumentation[] {
  const hooks = pgHooks(config.dbStatement);
  const instrumentation = new PgInstrumentation({
    // A query at module load has no invocation to belong to: without a parent it would become a
    // stray one-span trace in X-Ray, so it is not traced at all.
    requireParentSpan: true,
    // Bound values are never recorded (the default, kept explicit: they are often personal data).
    enhancedDatabaseReporting: false,
    ...hooks,
    requestHook(span, info) {
      hooks.requestHook(span, info);
      if (submitting !== undefined) submitting.span = span;
    },
  });
  endSubmittedQueries(instrumentation);
  return [instrumentation];
}

/** The submittable query being passed to instrumentation-pg's `query`, and the span it made for it. */
let submitting: { span: Span | undefined } | undefined;

/** What pg calls on the query it runs (`Query`, pg-cursor's `Cursor`, pg-query-stream). */
interface Submittable {
  submit(...args: unknown[]): unknown;
  handleReadyForQuery?: (...args: unknown[]) => unknown;
  handleError?: (error: unknown, ...args: unknown[]) => unknown;
}

type QueryMethod = (this: unknown, ...args: unknown[]) => unknown;

/**
 * instrumentation-pg starts a span for a submittable query (`client.query(new Query(...))`, which
 * pg-cursor and pg-query-stream use) but ends spans only through a promise or a callback, which a
 * submittable has neither of: its span was never ended, so never exported. Around its `query`
 * patch, this catches the span its request hook sees and ends it when pg reports the query done
 * (`handleReadyForQuery`) or failed (`handleError`), as the promise path would.
 */
function endSubmittedQueries(instrumentation: PgInstrumentation): void {
  const target = instrumentation as unknown as {
    _getClientQueryPatch?: () => (original: QueryMethod) => QueryMethod;
  };
  const patchOf = target._getClientQueryPatch;
  if (typeof patchOf !== 'function') return;
  target._getClientQueryPatch = function clientQueryPatch() {
    const patch = patchOf.call(this);
    return (original: QueryMethod) => {
      const instrumented = patch(original);
      return function query(this: unknown, ...args: unknown[]): unknown {
        const submittable = asSubmittable(args[0]);
        if (submittable === undefined) return instrumented.apply(this, args);
        const outer = submitting;
        const seen: { span: Span | undefined } = { span: undefined };
        submitting = seen;
        try {
          return instrumented.apply(this, args);
        } finally {
          submitting = outer;
          if (seen.span !== undefined) endWhenDone(submittable, seen.span);
        }
      };
    };
  };
}

function asSubmittable(value: unknown): Submittable | undefined {
  return typeof value === 'object' && value !== null && typeof (value as Submittable).submit === 'function'
    ? (value as Submittable)
    : undefined;
}

/** Ends `span` when pg reports the submittable done or failed; pg calls both on a failure. */
function endWhenDone(submittable: Submittable, span: Span): void {
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    try {
      if (error !== undefined) recordPgError(span, error);
      span.end();
    } catch {
      // Tracing must not break the query.
    }
  };
  const { handleReadyForQuery, handleError } = submittable;
  if (typeof handleReadyForQuery === 'function') {
    submittable.handleReadyForQuery = function (this: unknown, ...args: unknown[]) {
      end();
      return handleReadyForQuery.apply(this, args);
    };
  }
  if (typeof handleError === 'function') {
    submittable.handleError = function (this: unknown, error: unknown, ...args: unknown[]) {
      end(error);
      return handleError.apply(this, [error, ...args]);
    };
  }
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
