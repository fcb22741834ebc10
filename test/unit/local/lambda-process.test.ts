import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LocalFunction, processState } from '../../../src/local/lambda-process.js';
import type { RuntimeName } from '../../../src/local/runtime-entries.js';

/** The fixture dir (its own package.json makes the handlers CommonJS), found from src/ or build/. */
function fixtureRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', 'harness');
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error('test/fixtures/harness not found');
}

const TASK_ROOT = fixtureRoot();
const TRACE_HEADER = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

interface Echo {
  event: unknown;
  count: number;
  pid: number;
  requestId: string;
  xRayTraceId: string | null;
  envTraceId: string | null;
  remainingMs: number;
  cwd: string;
  nodeVersion: string;
  execArgv: string[];
  env: Record<string, string | null>;
}

const RUNTIMES: { runtime: RuntimeName; major: string }[] = [
  { runtime: 'nodejs24.x', major: 'v24.' },
  { runtime: 'nodejs22.x', major: 'v22.' },
];

for (const { runtime, major } of RUNTIMES) {
  describe(`LocalFunction on ${runtime} (real aws-lambda-ric, no layer)`, () => {
    describe('echo handler', () => {
      let fn: LocalFunction;
      const leaked = process.env.LEAK_CHECK;
      before(async () => {
        // Must not reach the function: only PATH and HOME are inherited.
        process.env.LEAK_CHECK = 'leaked';
        fn = await LocalFunction.start({
          runtime,
          taskRoot: TASK_ROOT,
          handler: 'index.handler',
          timeoutSec: 2,
        });
      });
      after(async () => {
        if (leaked === undefined) delete process.env.LEAK_CHECK;
        else process.env.LEAK_CHECK = leaked;
        await fn.stop();
      });

      it('serves two invocations from one process, frozen in between', async () => {
        assert.ok(fn.initDurationMs > 0, 'init duration measured');
        const first = await fn.invoke({ n: 1 }, { traceHeader: TRACE_HEADER });
        assert.equal(first.status, 'success', JSON.stringify(first.error));
        const echo1 = first.payload as Echo;
        assert.deepEqual(echo1.event, { n: 1 });
        assert.equal(echo1.requestId, first.requestId);
        assert.equal(echo1.pid, fn.pid);
        assert.ok(echo1.remainingMs > 0 && echo1.remainingMs <= 2000, `remaining ${echo1.remainingMs}`);

        assert.equal(processState(fn.pid), 'T', 'frozen (SIGSTOP) between invocations');
        assert.equal(fn.frozen, true);

        const second = await fn.invoke({ n: 2 });
        assert.equal(second.status, 'success');
        const echo2 = second.payload as Echo;
        assert.equal(echo2.count, 2, 'same process, module state kept');
        assert.equal(echo2.pid, echo1.pid);
        assert.equal(second.coldStart, false);
        assert.equal(fn.coldStarts, 1);
      });

      it('passes the trace header to the handler as _X_AMZN_TRACE_ID, and clears it when absent', async () => {
        const traced = (await fn.invoke({}, { traceHeader: TRACE_HEADER })).payload as Echo;
        assert.equal(traced.envTraceId, TRACE_HEADER);
        // ric@4 also puts it on the context; ric@3's context has no xRayTraceId.
        if (runtime === 'nodejs24.x') assert.equal(traced.xRayTraceId, TRACE_HEADER);
        else assert.equal(traced.xRayTraceId, null);
        const untraced = (await fn.invoke({})).payload as Echo;
        assert.equal(untraced.envTraceId, null);
      });

      it('starts the process like the managed runtime does', async () => {
        const echo = (await fn.invoke({})).payload as Echo;
        assert.ok(echo.nodeVersion.startsWith(major), echo.nodeVersion);
        assert.equal(echo.cwd, TASK_ROOT);
        assert.ok(echo.execArgv.includes('--expose-gc'), echo.execArgv.join(' '));
        assert.ok(echo.execArgv.includes('--max-old-space-size=124'), echo.execArgv.join(' '));
        assert.equal(echo.env.AWS_EXECUTION_ENV, `AWS_Lambda_${runtime}`);
        assert.equal(echo.env.TZ, ':UTC');
        assert.equal(echo.env.LAMBDA_TASK_ROOT, TASK_ROOT);
        assert.equal(echo.env.LEAK_CHECK, null, 'parent environment leaked into the function');
        assert.equal(echo.env.AWS_LAMBDA_EXEC_WRAPPER, null);
      });
    });

    it('surfaces a handler error with its errorType', async () => {
      const fn = await LocalFunction.start({ runtime, taskRoot: TASK_ROOT, handler: 'index.fail' });
      try {
        const result = await fn.invoke({ field: 'email' });
        assert.equal(result.status, 'error');
        assert.equal(result.error?.errorType, 'ValidationError');
        assert.equal(result.error?.errorMessage, 'bad input: email');
        assert.ok(
          result.error?.trace?.some((line) => line.includes('index.js')),
          'stack trace posted',
        );
      } finally {
        await fn.stop();
      }
    });

    it('kills a function at its timeout and cold-starts the next invocation', async () => {
      const fn = await LocalFunction.start({
        runtime,
        taskRoot: TASK_ROOT,
        handler: 'index.slow',
        timeoutSec: 1,
      });
      try {
        const firstPid = fn.pid;
        const timedOut = await fn.invoke({ ms: 10_000 });
        assert.equal(timedOut.status, 'timeout');
        assert.ok(
          timedOut.durationMs >= 950 && timedOut.durationMs < 3000,
          `durationMs ${timedOut.durationMs}`,
        );
        assert.equal(processState(firstPid), undefined, 'timed-out process is gone');

        const next = await fn.invoke({ ms: 1 });
        assert.equal(next.status, 'success');
        assert.equal(next.coldStart, true);
        assert.notEqual(next.pid, firstPid);
        assert.equal(fn.coldStarts, 2);
      } finally {
        await fn.stop();
      }
    });

    it('reports a crash mid-invocation as crashed', async () => {
      const fn = await LocalFunction.start({ runtime, taskRoot: TASK_ROOT, handler: 'index.exit' });
      try {
        const result = await fn.invoke({});
        assert.equal(result.status, 'crashed');
        assert.equal(result.error?.errorType, 'Runtime.ExitError');
        assert.match(result.error?.errorMessage ?? '', /exit status 3/);
      } finally {
        await fn.stop();
      }
    });

    it('reports an init error as crashed with the runtime-posted error', async () => {
      const fn = await LocalFunction.start({ runtime, taskRoot: TASK_ROOT, handler: 'broken.handler' });
      try {
        assert.equal(fn.initError?.errorMessage, 'broken at load time');
        const result = await fn.invoke({});
        assert.equal(result.status, 'crashed');
        assert.equal(result.error?.errorMessage, 'broken at load time');
        assert.match(fn.output(), /broken at load time/);
      } finally {
        await fn.stop();
      }
    });

    it('treats a 3-parameter (callback) handler like the real runtime client does', async () => {
      const fn = await LocalFunction.start({ runtime, taskRoot: TASK_ROOT, handler: 'index.callback' });
      try {
        const result = await fn.invoke({ n: 1 });
        if (runtime === 'nodejs24.x') {
          // ric@4 refuses callback handlers at init, judged by handler.length >= 3.
          assert.equal(result.status, 'crashed');
          assert.equal(result.error?.errorType, 'Runtime.CallbackHandlerDeprecated');
        } else {
          assert.equal(result.status, 'success');
          assert.deepEqual(result.payload, { style: 'callback', event: { n: 1 } });
        }
      } finally {
        await fn.stop();
      }
    });

    if (runtime === 'nodejs22.x') {
      it('times out a callback handler that leaves the event loop busy (callbackWaitsForEmptyEventLoop)', async () => {
        const fn = await LocalFunction.start({
          runtime,
          taskRoot: TASK_ROOT,
          handler: 'index.callbackBusyLoop',
          timeoutSec: 1,
        });
        try {
          assert.equal((await fn.invoke({})).status, 'timeout');
        } finally {
          await fn.stop();
        }
      });
    }

    it('collects a streamed response whole', async () => {
      const fn = await LocalFunction.start({ runtime, taskRoot: TASK_ROOT, handler: 'stream.handler' });
      try {
        const result = await fn.invoke({ n: 7 });
        assert.equal(result.status, 'success');
        assert.equal(result.streamed, true);
        assert.equal(result.payload, 'chunk-1;chunk-2:7');
      } finally {
        await fn.stop();
      }
    });

    it('runs the exec wrapper with node and its arguments', async () => {
      const wrapper = join(TASK_ROOT, 'wrapper.sh');
      const fn = await LocalFunction.start({
        runtime,
        taskRoot: TASK_ROOT,
        handler: 'index.handler',
        execWrapper: wrapper,
      });
      try {
        const echo = (await fn.invoke({})).payload as Echo;
        assert.equal(echo.env.WRAPPED_BY, 'wrapper.sh');
        assert.equal(echo.env.AWS_LAMBDA_EXEC_WRAPPER, wrapper);
        assert.equal(echo.pid, fn.pid, 'the wrapper exec-ed node in place');
      } finally {
        await fn.stop();
      }
    });
  });
}

it('stop() leaves no process behind, even a frozen one', async () => {
  const fn = await LocalFunction.start({
    runtime: 'nodejs24.x',
    taskRoot: TASK_ROOT,
    handler: 'index.handler',
  });
  await fn.invoke({});
  const pid = fn.pid;
  assert.equal(processState(pid), 'T');
  await fn.stop();
  assert.equal(processState(pid), undefined);
});
