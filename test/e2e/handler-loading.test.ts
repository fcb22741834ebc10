import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { startFunction } from '../helpers/traced-function.js';

/*
 * The layer loads the function's handler itself; it must find the same handler, or fail with the
 * same error, as the runtime client of each generation does without it. Each handler string runs
 * on the real runtime client with and without the layer, and the outcomes are compared.
 */

/** What an invocation came to: the payload, or the error's type and message. */
async function outcome(runtime: RuntimeName, handler: string, traced: boolean): Promise<unknown> {
  const fn = await startFunction({ runtime, fixture: 'handler-shapes', handler, traced });
  try {
    const result = await fn.invoke({});
    if (result.status === 'success') return { payload: result.payload };
    const { errorType, errorMessage } = (result.error ?? {}) as { errorType?: string; errorMessage?: string };
    // Each function has its own task root. The module that asked for a missing module or a folder
    // (the require stack's last entry, "imported from") is the runtime client's entry without the
    // layer and the layer's with it: in Lambda both anchor at /var/runtime/index.mjs, here not, so
    // the message is compared up to it.
    const message = errorMessage
      ?.split('\n')[0]
      ?.split(fn.taskRoot)
      .join('<task root>')
      .replace(/ imported from .*$/, '');
    return { errorType, errorMessage: message };
  } finally {
    await fn.cleanup();
  }
}

const HANDLERS = [
  'index.plain',
  'index.Orders.handle',
  'index.app.handler',
  'folder.handler',
  'index.zero',
  'missing.handler',
];

for (const runtime of ['nodejs22.x', 'nodejs24.x'] as const) {
  describe(`${runtime}: the layer finds the handler the runtime client finds`, () => {
    for (const handler of HANDLERS) {
      test(handler, async () => {
        const [plain, traced] = await Promise.all([
          outcome(runtime, handler, false),
          outcome(runtime, handler, true),
        ]);
        assert.deepEqual(traced, plain);
      });
    }
  });
}
