import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { LINKED_ROOT_CONTEXT } from '../../../src/context/linked-context.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const KEYS = ['a', 'b', 'c', 'd', 'e'].map((name) => createContextKey(name));

test("linked contexts read as the API's own contexts, after any sequence of sets and deletes", () => {
  const random = seededRandom(20261202);
  for (let sequence = 0; sequence < 200; sequence++) {
    // Both kinds of context through the same operations, branching from earlier ones as code does.
    const api: Context[] = [ROOT_CONTEXT];
    const linked: Context[] = [LINKED_ROOT_CONTEXT];
    const steps = 1 + Math.floor(random() * 80);
    for (let step = 0; step < steps; step++) {
      const from = Math.floor(random() * api.length);
      const key = KEYS[Math.floor(random() * KEYS.length)] as symbol;
      const value = random() < 0.1 ? undefined : Math.floor(random() * 5);
      const del = random() < 0.2;
      api.push(del ? (api[from] as Context).deleteValue(key) : (api[from] as Context).setValue(key, value));
      linked.push(
        del ? (linked[from] as Context).deleteValue(key) : (linked[from] as Context).setValue(key, value),
      );
    }
    api.forEach((context, index) => {
      for (const key of KEYS) {
        assert.equal((linked[index] as Context).getValue(key), context.getValue(key), `sequence ${sequence}`);
      }
    });
  }
});

test('a long chain is flattened: values kept, nearer ones winning, earlier contexts untouched', () => {
  const [a, b] = KEYS as [symbol, symbol];
  let context = LINKED_ROOT_CONTEXT.setValue(a, 'first');
  const early = context;
  for (let i = 0; i < 100; i++) context = context.setValue(b, i);
  context = context.setValue(a, 'last');
  assert.equal(context.getValue(a), 'last');
  assert.equal(context.getValue(b), 99);
  assert.equal(early.getValue(a), 'first');
  assert.equal(early.getValue(b), undefined);
  assert.equal(context.deleteValue(a).getValue(a), undefined);
  assert.equal(context.getValue(a), 'last');
});

test('the trace API reads the span a linked context holds', () => {
  const spanContext = {
    traceId: '5759e988bd862e3fe1be46a994272793',
    spanId: '53995c3f42cd8ad8',
    traceFlags: 1,
  };
  const context = trace.setSpanContext(LINKED_ROOT_CONTEXT, spanContext);
  assert.deepEqual(trace.getSpanContext(context), spanContext);
  assert.equal(trace.getSpanContext(LINKED_ROOT_CONTEXT), undefined);
  assert.equal(trace.getSpanContext(trace.deleteSpan(context)), undefined);
});
