import {
  context,
  createContextKey,
  type Span,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  type Instrumentation,
  type InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import {
  SequelizeInstrumentation,
  type SequelizeInstrumentationConfig,
  type SequelizeQueryHookParams,
} from '@opentelemetry/instrumentation-sequelize';
import type { Config, DbStatementMode } from '../config/load-config.js';
import { removeAttribute } from './db-attributes.js';
import { sanitizeSql, statementFor } from './sql-sanitize.js';
import { spanNameFor, summarizeSql } from './sql-summary.js';

/** The model operation a Sequelize query runs for (`Order.findAll`), carried in the context. */
const MODEL_OPERATION = createContextKey('otel-lambda-xray sequelize model operation');

/** Model methods that issue queries; each names the spans of the queries it makes. */
const STATIC_METHODS = [
  'findAll',
  'findOne',
  'findByPk',
  'findAndCountAll',
  'findOrCreate',
  'count',
  'aggregate',
  'create',
  'bulkCreate',
  'update',
  'upsert',
  'destroy',
  'restore',
  'increment',
  'decrement',
  'truncate',
  'sync',
  'drop',
] as const;
const INSTANCE_METHODS = ['save', 'destroy', 'reload', 'restore', 'increment', 'decrement'] as const;

/** What instrumentation-sequelize records that makes X-Ray take its spans for the database itself. */
const REMOTE_ATTRIBUTES = ['db.system.name', 'db.namespace', 'server.address', 'server.port'] as const;

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
interface SequelizeExports {
  Sequelize?: { prototype: Record<string, unknown> };
  Model?: Record<string, unknown> & { prototype: Record<string, unknown> };
}

/**
 * Sequelize v6: a span per query Sequelize runs (instrumentation-sequelize), named after the model
 * operation that ran it (`Order.findAll`, `Order.create`) or, for `sequelize.query`, after the
 * statement (`Sequelize SELECT orders`); a `Sequelize transaction` span around a managed
 * transaction; the `pg` spans of the SQL beneath them.
 */
export function createSequelizeInstrumentations(config: Readonly<Config>): Instrumentation[] {
  return [new LambdaSequelizeInstrumentation(config.dbStatement)];
}

/**
 * instrumentation-sequelize extended with what it lacks: model-operation names (it sees only
 * `Sequelize#query`, not which model method called it), transaction spans, statements without
 * literals (it records Sequelize's SQL, in which `where` values are inlined), and INTERNAL spans
 * that X-Ray shows as local steps, not as one more database.
 */
export class LambdaSequelizeInstrumentation extends SequelizeInstrumentation {
  private internal: { readonly base: Tracer; readonly tracer: Tracer } | undefined;

  constructor(mode: DbStatementMode) {
    const options: SequelizeInstrumentationConfig = {
      // Queries at module load (`sequelize.authenticate()`, `sync()`) belong to no invocation.
      ignoreOrphanedSpans: true,
      queryHook: (span, params) => completeQuerySpan(span, params, mode),
    };
    super(options);
  }

  /**
   * Sequelize's spans are made INTERNAL (instrumentation-sequelize makes them CLIENT): the remote
   * call is the `pg` span beneath, and X-Ray draws every CLIENT subsegment as a node of its own in
   * the service map, which would show `Order.findAll` as a second database beside the real one.
   * OpenTelemetry Java's Hibernate instrumentation does the same over its JDBC spans.
   */
  protected override get tracer(): Tracer {
    const base = super.tracer;
    if (this.internal?.base !== base) this.internal = { base, tracer: internalSpansOf(base) };
    return this.internal.tracer;
  }

  protected override init(): InstrumentationNodeModuleDefinition {
    const definition = super.init();
    const patch = definition.patch;
    const unpatch = definition.unpatch;
    definition.patch = (exports: SequelizeExports, version?: string) => {
      const patched = patch === undefined ? exports : patch(exports, version);
      this.patchExtras(exports);
      return patched;
    };
    definition.unpatch = (exports: SequelizeExports, version?: string) => {
      unpatch?.(exports, version);
      this.unpatchExtras(exports);
    };
    return definition;
  }

  private patchExtras(exports: SequelizeExports): void {
    const model = exports.Model;
    if (model !== undefined) {
      for (const method of STATIC_METHODS) this.wrapIfFunction(model, method, nameQueriesAfter(method, true));
      for (const method of INSTANCE_METHODS) {
        this.wrapIfFunction(model.prototype, method, nameQueriesAfter(method, false));
      }
    }
    const sequelize = exports.Sequelize?.prototype;
    if (sequelize !== undefined) this.wrapIfFunction(sequelize, 'transaction', this.transactionPatch());
  }

  private unpatchExtras(exports: SequelizeExports): void {
    const model = exports.Model;
    if (model !== undefined) {
      for (const method of STATIC_METHODS) this.unwrapIfWrapped(model, method);
      for (const method of INSTANCE_METHODS) this.unwrapIfWrapped(model.prototype, method);
    }
    if (exports.Sequelize !== undefined) this.unwrapIfWrapped(exports.Sequelize.prototype, 'transaction');
  }

  private unwrapIfWrapped(target: Record<string, unknown>, name: string): void {
    if (isWrapped(target[name])) this._unwrap(target, name);
  }

  private wrapIfFunction(
    target: Record<string, unknown>,
    name: string,
    wrapper: (original: AnyFunction) => AnyFunction,
  ): void {
    if (typeof target[name] !== 'function') return;
    this.unwrapIfWrapped(target, name);
    this._wrap(target, name, wrapper as never);
  }

  /** `sequelize.transaction(callback)`: a span for the whole managed transaction, its queries beneath. */
  private transactionPatch(): (original: AnyFunction) => AnyFunction {
    const tracer = () => this.tracer;
    return (original) =>
      function transaction(this: unknown, ...args: unknown[]): unknown {
        const managed = typeof args[0] === 'function' || typeof args[1] === 'function';
        // An unmanaged transaction (`await sequelize.transaction()`) has no scope to span; its
        // START TRANSACTION and COMMIT queries still get their own spans.
        if (!managed || trace.getSpan(context.active()) === undefined) return original.apply(this, args);
        // No database attributes: X-Ray would take it for one more SQL query.
        const span = tracer().startSpan('Sequelize transaction', { kind: SpanKind.INTERNAL });
        let result: unknown;
        try {
          result = context.with(trace.setSpan(context.active(), span), () => original.apply(this, args));
        } catch (error) {
          endFailed(span, error);
          throw error;
        }
        if (!(result instanceof Promise)) {
          span.end();
          return result;
        }
        return result.then(
          (value) => {
            span.end();
            return value;
          },
          (error: unknown) => {
            endFailed(span, error);
            throw error;
          },
        );
      };
  }
}

function internalSpansOf(base: Tracer): Tracer {
  return {
    startSpan: (name, options, ctx) => base.startSpan(name, { ...options, kind: SpanKind.INTERNAL }, ctx),
    startActiveSpan: base.startActiveSpan.bind(base) as Tracer['startActiveSpan'],
  };
}

/** Runs a model method with its name in the context, unless an outer model method already named it. */
function nameQueriesAfter(method: string, isStatic: boolean): (original: AnyFunction) => AnyFunction {
  return (original) =>
    function modelOperation(this: unknown, ...args: unknown[]): unknown {
      const active = context.active();
      if (active.getValue(MODEL_OPERATION) !== undefined) return original.apply(this, args);
      const owner = isStatic ? this : (this as { constructor?: unknown } | null)?.constructor;
      const modelName = (owner as { name?: unknown } | null)?.name;
      const operation = typeof modelName === 'string' && modelName !== '' ? `${modelName}.${method}` : method;
      return context.with(active.setValue(MODEL_OPERATION, operation), () => original.apply(this, args));
    };
}

/** The queryHook: names the span, and rewrites the statement and table instrumentation-sequelize recorded. */
function completeQuerySpan(span: Span, params: SequelizeQueryHookParams, mode: DbStatementMode): void {
  const sql = typeof params.sql === 'string' ? params.sql : (params.sql?.query ?? '');
  const sanitized = sanitizeSql(sql.trim());
  const summary = summarizeSql(sanitized);
  const operation = context.active().getValue(MODEL_OPERATION);
  if (typeof operation === 'string') {
    span.updateName(operation);
    span.setAttribute('db.operation.name', operation.slice(operation.lastIndexOf('.') + 1));
  } else {
    span.updateName(`Sequelize ${spanNameFor(summary, 'query')}`);
    // Sequelize passes the transaction type (`DEFERRED`) as the query type of BEGIN and COMMIT.
    if (summary.operation !== undefined) span.setAttribute('db.operation.name', summary.operation);
  }
  // instrumentation-sequelize reads tables from the raw text with a regular expression that also
  // matches words inside string literals; the model's table, or the sanitized text, cannot leak.
  const table = modelTable(params.option) ?? summary.collection;
  if (table === undefined) removeAttribute(span, 'db.collection.name');
  else span.setAttribute('db.collection.name', table);
  // X-Ray names a subsegment `<database>@<host>`, or after `server.address`, before its span name,
  // and makes any span with a database system a remote call (a node of the service map): with
  // these, each Sequelize span would pose as a second database instead of reading `Order.findAll`.
  // The `pg` span beneath carries them all.
  for (const key of REMOTE_ATTRIBUTES) removeAttribute(span, key);
  const statement = statementFor(sql.trim(), mode, sanitized);
  if (statement === undefined) removeAttribute(span, 'db.query.text');
  else span.setAttribute('db.query.text', statement);
  if (mode !== 'raw') withoutErrorText(span);
}

/**
 * instrumentation-sequelize ends a failed query with the error's message as the status message, and
 * PostgreSQL quotes the offending value in some (`invalid input syntax for type integer:
 * "4111-1111..."`), which X-Ray would show as the cause. Unless statements are `raw`, the message
 * says only that the query failed: the `pg` span beneath carries the SQLSTATE and condition.
 */
function withoutErrorText(span: Span): void {
  const setStatus = span.setStatus.bind(span);
  span.setStatus = (status: SpanStatus) =>
    setStatus(
      status.code === SpanStatusCode.ERROR ? { code: SpanStatusCode.ERROR, message: QUERY_FAILED } : status,
    );
}

const QUERY_FAILED = 'query failed (the database span beneath says why)';

function modelTable(option: unknown): string | undefined {
  const o = option as {
    model?: { tableName?: unknown };
    instance?: { constructor?: { tableName?: unknown } };
  } | null;
  const name = o?.model?.tableName ?? o?.instance?.constructor?.tableName;
  return typeof name === 'string' ? name : undefined;
}

function endFailed(span: Span, error: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.name : 'transaction failed',
  });
  span.end();
}
