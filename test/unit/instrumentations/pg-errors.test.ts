import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describeErrorsOf } from '../../../src/instrumentations/pg-errors.js';

// No pg server involved: these drive the two span calls instrumentation-pg 0.76 makes on failure
// (the end-to-end test checks the same against a real PostgreSQL).
function failedSpan(mode: 'sanitized' | 'raw', recorded: string | undefined, message: string) {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
    't',
  );
  const span = tracer.startSpan('SELECT orders');
  describeErrorsOf(span, mode);
  if (recorded !== undefined) span.recordException(recorded);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
  const [finished] = exporter.getFinishedSpans();
  assert.ok(finished);
  return finished;
}

test('a server error: SQLSTATE as error.type and db.response.status_code, message without values', () => {
  const span = failedSpan(
    'sanitized',
    "PostgreSQL error of type 'error' occurred (code: 22P02)",
    'invalid input syntax for type integer: "4111111111111111"',
  );
  assert.equal(span.attributes['error.type'], '22P02');
  assert.equal(span.attributes['db.response.status_code'], '22P02');
  assert.equal(span.status.message, 'invalid_text_representation (SQLSTATE 22P02)');
  assert.equal(span.events.length, 1);
  assert.equal(span.events[0]?.attributes?.['exception.type'], 'DatabaseError');
  assert.equal(
    JSON.stringify({ a: span.attributes, e: span.events, s: span.status }).includes('4111'),
    false,
  );
});

test('raw mode keeps the server message; unknown codes fall back to the class name', () => {
  assert.equal(
    failedSpan(
      'raw',
      "PostgreSQL error of type 'error' occurred (code: 42601)",
      'syntax error at or near "SELEC"',
    ).status.message,
    'syntax error at or near "SELEC"',
  );
  assert.equal(
    failedSpan('sanitized', "PostgreSQL error of type 'error' occurred (code: 23P99)", 'x').status.message,
    'integrity_constraint_violation (SQLSTATE 23P99)',
  );
});

test('a client error keeps its text and code; a success is untouched', () => {
  const refused = failedSpan(
    'sanitized',
    "PostgreSQL error of type 'Error' occurred (code: ECONNREFUSED)",
    'connect ECONNREFUSED 127.0.0.1:1',
  );
  assert.equal(refused.attributes['error.type'], 'ECONNREFUSED');
  assert.equal(refused.attributes['db.response.status_code'], undefined);
  assert.equal(refused.status.message, 'connect ECONNREFUSED 127.0.0.1:1');
  const thrownString = failedSpan('sanitized', undefined, 'odd');
  assert.equal(thrownString.attributes['error.type'], 'Error');
});
