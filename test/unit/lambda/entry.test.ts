import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadWrappedHandler } from '../../../src/bootstrap/entry.js';

const taskRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../test/fixtures/unit-handlers',
);
const env = (handler: string) => ({
  LAMBDA_TASK_ROOT: taskRoot,
  OTEL_LAMBDA_XRAY_ORIGINAL_HANDLER: handler,
  OTEL_LOG_LEVEL: 'none',
});

test('a bootstrap failure leaves the function running untraced, with the handler itself', async () => {
  const handler = await loadWrappedHandler(env('handlers.handler'), () => {
    throw new Error('provider exploded');
  });
  const own = createRequire(import.meta.url)(path.join(taskRoot, 'handlers.cjs')) as { handler: unknown };
  assert.equal(handler, own.handler, "expected the user's own handler, unwrapped");
});

test('nested handler names resolve like the runtime resolves them', async () => {
  const handler = await loadWrappedHandler({
    ...env('handlers.nested.deeper.handler'),
    OTEL_SDK_DISABLED: 'true',
  });
  assert.equal(await handler({}, {}), 'nested result');
});

test("a missing or non-function handler fails with the runtime's own error type and message", async () => {
  await assert.rejects(loadWrappedHandler({ ...env('handlers.missing'), OTEL_SDK_DISABLED: 'true' }), {
    name: 'Runtime.HandlerNotFound',
    message: 'handlers.missing is undefined or not exported',
  });
  await assert.rejects(loadWrappedHandler({ ...env('handlers.notAFunction'), OTEL_SDK_DISABLED: 'true' }), {
    name: 'Runtime.HandlerNotFound',
    message: 'handlers.notAFunction is not a function',
  });
  await assert.rejects(loadWrappedHandler({ ...env('../up.handler'), OTEL_SDK_DISABLED: 'true' }), {
    name: 'Runtime.MalformedHandlerName',
  });
});

test('a handler string the runtime refuses fails with its error alone: tracing logs nothing about it', async () => {
  const logged: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: unknown) => logged.push(String(chunk)) > 0) as typeof write;
  try {
    await assert.rejects(loadWrappedHandler({ ...env('index'), OTEL_LOG_LEVEL: 'error' }), {
      name: 'Runtime.MalformedHandlerName',
      message: 'Bad handler',
    });
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(
    logged.filter((line) => line.includes('otel-lambda-xray')),
    [],
  );
});
