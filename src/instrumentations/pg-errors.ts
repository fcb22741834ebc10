import { type Span, type SpanStatus, SpanStatusCode } from '@opentelemetry/api';
import type { DbStatementMode } from '../config/load-config.js';

/** What instrumentation-pg writes instead of the error (its `sanitizedErrorMessage`, 0.76). */
const CONTRIB_MESSAGE = /^PostgreSQL error of type '(.*)' occurred \(code: (.*)\)$/s;

/**
 * Records `error` on a pg span as instrumentation-pg does (its sanitized message, then the ERROR
 * status), for the spans the layer ends itself: {@link describeErrorsOf} turns both into the
 * SQLSTATE fields.
 */
export function recordPgError(span: Span, error: unknown): void {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  span.recordException(
    `PostgreSQL error of type '${String(name ?? 'PostgreSQLError')}' occurred (code: ${String(code ?? 'UNKNOWN')})`,
  );
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Names of the SQLSTATEs functions meet most (PostgreSQL, Appendix A). */
const CONDITIONS: Readonly<Record<string, string>> = {
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '22P02': 'invalid_text_representation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22012': 'division_by_zero',
  '25P02': 'in_failed_sql_transaction',
  '28P01': 'invalid_password',
  '3D000': 'invalid_catalog_name',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42P01': 'undefined_table',
  '42703': 'undefined_column',
  '42883': 'undefined_function',
  '53300': 'too_many_connections',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
};
/** Names of the SQLSTATE classes (the first two characters), for the codes not listed above. */
const CLASSES: Readonly<Record<string, string>> = {
  '08': 'connection_exception',
  '0A': 'feature_not_supported',
  '22': 'data_exception',
  '23': 'integrity_constraint_violation',
  '25': 'invalid_transaction_state',
  '28': 'invalid_authorization_specification',
  '40': 'transaction_rollback',
  '42': 'syntax_error_or_access_rule_violation',
  '53': 'insufficient_resources',
  '54': 'program_limit_exceeded',
  '55': 'object_not_in_prerequisite_state',
  '57': 'operator_intervention',
  '58': 'system_error',
  P0: 'plpgsql_error',
  XX: 'internal_error',
};

/**
 * Makes a failing pg span say what failed: `error.type` and `db.response.status_code` (the
 * SQLSTATE, per the database semantic conventions), an `exception` event X-Ray shows as the cause,
 * and a status message without values. instrumentation-pg gives its hooks no error, so this reads
 * the error from the two calls it makes on the span when a query or connection fails.
 *
 * PostgreSQL quotes the offending value in some messages (`invalid input syntax for type integer:
 * "4111 1111..."`): unless statements are `raw`, a server error is described by its SQLSTATE and
 * condition name only. Client-side errors (`connect ECONNREFUSED 127.0.0.1:5432`) keep their text.
 */
export function describeErrorsOf(span: Span, mode: DbStatementMode): void {
  const recordException = span.recordException.bind(span);
  const setStatus = span.setStatus.bind(span);
  let reported: { name: string; code: string } | undefined;
  span.recordException = (exception, time) => {
    const match = typeof exception === 'string' ? CONTRIB_MESSAGE.exec(exception) : null;
    if (match === null) return recordException(exception, time);
    reported = { name: match[1] ?? 'Error', code: match[2] ?? 'UNKNOWN' };
  };
  span.setStatus = (status: SpanStatus) => {
    if (status.code !== SpanStatusCode.ERROR) return setStatus(status);
    const { type, message } = describe(reported, status.message ?? '', mode);
    span.setAttribute('error.type', type);
    if (reported !== undefined && SQLSTATE.test(reported.code)) {
      span.setAttribute('db.response.status_code', reported.code);
    }
    recordException({ name: exceptionType(reported), message });
    return setStatus({ code: SpanStatusCode.ERROR, message });
  };
}

function describe(
  reported: { name: string; code: string } | undefined,
  original: string,
  mode: DbStatementMode,
): { type: string; message: string } {
  const code = reported?.code;
  if (code !== undefined && SQLSTATE.test(code)) {
    const condition = CONDITIONS[code] ?? CLASSES[code.slice(0, 2)] ?? 'database_error';
    return { type: code, message: mode === 'raw' ? original : `${condition} (SQLSTATE ${code})` };
  }
  const type = code !== undefined && code !== 'UNKNOWN' ? code : (reported?.name ?? 'Error');
  return { type, message: original };
}

/** pg names its server errors `error` (the protocol message name); the class is DatabaseError. */
function exceptionType(reported: { name: string; code: string } | undefined): string {
  if (reported === undefined) return 'Error';
  return reported.name === 'error' ? 'DatabaseError' : reported.name;
}
