import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { rememberContextManager, runInContext } from '../../../src/context/run-in-context.js';

const KEY = createContextKey('test value');

/** Counts the calls that go through the API's `context.with` while `body` runs. */
function countApiCalls(body: () => void): number {
  const apiWith = context.with;
  let calls = 0;
  context.with = function (this: typeof context, ...args: Parameters<typeof apiWith>) {
    calls += 1;
    return apiWith.apply(this, args);
  } as typeof apiWith;
  try {
    body();
  } finally {
    context.with = apiWith;
  }
  return calls;
}

test('runs in the given context through the remembered manager, the API only once it changed', async () => {
  assert.equal(rememberContextManager(), false, 'no global context manager yet');
  const first = new AsyncLocalStorageContextManager().enable();
  assert.ok(context.setGlobalContextManager(first));
  assert.equal(rememberContextManager(), true);

  const ctx = ROOT_CONTEXT.setValue(KEY, 'one');
  let seen: unknown;
  let result: unknown;
  const direct = countApiCalls(() => {
    result = runInContext(ctx, () => {
      seen = context.active().getValue(KEY);
      return 42;
    });
  });
  assert.equal(result, 42);
  assert.equal(seen, 'one', "the API's active context is the one given");
  assert.equal(direct, 0, 'the remembered manager is called directly');
  // What the function awaits inside still sees it, as with context.with.
  await runInContext(ctx, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(context.active().getValue(KEY), 'one');
  });

  // Another manager registered since: the API decides, and its manager is used.
  context.disable();
  const second = new AsyncLocalStorageContextManager().enable();
  assert.ok(context.setGlobalContextManager(second));
  const viaApi = countApiCalls(() => {
    seen = runInContext(ROOT_CONTEXT.setValue(KEY, 'two'), () => second.active().getValue(KEY));
  });
  assert.equal(viaApi, 1);
  assert.equal(seen, 'two');
  context.disable();
});
