import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../../src/config/load-config.js';
import { ExportHealth } from '../../../src/export/export-health.js';
import { InvocationTracer } from '../../../src/lambda/invocation.js';
import {
  type LambdaCallback,
  type LambdaHandler,
  wrapHandler,
  wrapStreamingHandler,
} from '../../../src/lambda/wrap-handler.js';

// The layer registers this context manager; the unit tests need one to see the active span.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

/** A tracer whose flush is observable: `flushed` counts completed flushes. */
function setup(flushDelayMs = 0) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const state = { flushed: 0 };
  const tracer = new InvocationTracer({
    tracer: provider.getTracer('test'),
    flush: () =>
      new Promise<void>((resolve) => setTimeout(() => resolve(void state.flushed++), flushDelayMs)),
    config: loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'unit-fn' }).config,
    health: new ExportHealth(),
  });
  return { exporter, provider, tracer, state };
}

const lambdaContext = (header?: string) => ({
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:unit-fn:live',
  ...(header ? { xRayTraceId: header } : {}),
  getRemainingTimeInMillis: () => 30_000,
});

describe('wrapHandler', () => {
  test("keeps the handler's arity: two stays two, three stays three", () => {
    const { tracer } = setup();
    assert.equal(wrapHandler(async (_e: unknown, _c: unknown) => 1, tracer).length, 2);
    assert.equal(wrapHandler((_e: unknown, _c: unknown, _cb?: LambdaCallback) => 1, tracer).length, 3);
    assert.equal(wrapHandler(async () => 1, tracer).length, 0);
  });

  test('a flush with nothing left running, and a span processor that throws, leave result and error as they were', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor(exporter),
        {
          onStart: () => {},
          onEnd: () => {
            throw new Error('processor bug');
          },
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    let flushes = 0;
    const tracer = new InvocationTracer({
      tracer: provider.getTracer('test'),
      flush: () => {
        flushes++;
        return undefined; // everything handed over already
      },
      config: loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'unit-fn' }).config,
      health: new ExportHealth(),
    });
    const result = { statusCode: 201 };
    assert.equal(await wrapHandler(async () => result, tracer)({}, lambdaContext()), result);
    const failure = new TypeError('handler failed');
    await assert.rejects(
      Promise.resolve(
        wrapHandler(async () => {
          throw failure;
        }, tracer)({}, lambdaContext()),
      ),
      (error) => error === failure,
    );
    assert.equal(exporter.getFinishedSpans().length, 2);
    assert.equal(flushes, 2, 'flushed at the end of both invocations');
  });

  test('when the flush handed everything over at once, the result and the error come a turn after the handler', async () => {
    const tracer = new InvocationTracer({
      tracer: new BasicTracerProvider().getTracer('test'),
      flush: () => undefined,
      config: loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'unit-fn' }).config,
      health: new ExportHealth(),
    });
    /** How many promise turns after the call `outcome` settled (every turn after a freeze costs). */
    const turnsUntilSettled = async (outcome: unknown): Promise<number> => {
      let settled = false;
      Promise.resolve(outcome).then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      let turns = 0;
      while (!settled && turns < 20) {
        await Promise.resolve();
        turns += 1;
      }
      return turns;
    };
    const result = { statusCode: 200 };
    const plain = await turnsUntilSettled((async () => result)());
    const resolved = await turnsUntilSettled(wrapHandler(async () => result, tracer)({}, lambdaContext()));
    const rejected = await turnsUntilSettled(
      wrapHandler(async () => {
        throw new Error('failed');
      }, tracer)({}, lambdaContext()),
    );
    assert.equal(resolved, plain + 1, 'one turn more than the handler alone');
    assert.equal(rejected, plain + 1, 'one turn more than the handler alone');
  });

  test('returns the very same result object, after the flush', async () => {
    const { tracer, state, exporter } = setup(20);
    const result = { statusCode: 200 };
    const wrapped = wrapHandler(async () => result, tracer);
    const returned = await wrapped({}, lambdaContext());
    assert.equal(returned, result);
    assert.equal(state.flushed, 1);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'unit-fn');
    assert.equal(
      span?.attributes['cloud.resource_id'],
      'arn:aws:lambda:eu-west-1:111122223333:function:unit-fn',
    );
    assert.equal(span?.attributes['faas.coldstart'], true);
  });

  test('rejects with the very same error, thrown synchronously or asynchronously', async () => {
    const { tracer, exporter } = setup();
    const error = new Error('boom');
    for (const handler of [
      () => {
        throw error;
      },
      async () => {
        throw error;
      },
    ] as LambdaHandler[]) {
      await assert.rejects(
        Promise.resolve(wrapHandler(handler, tracer)({}, lambdaContext())),
        (e) => e === error,
      );
    }
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.events[0]?.name, 'exception');
    }
  });

  test('the handler runs with the invocation span active, parented to the trace header', async () => {
    const { tracer, exporter } = setup();
    const header = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    let activeTraceId: string | undefined;
    await wrapHandler(async () => {
      activeTraceId = trace.getActiveSpan()?.spanContext().traceId;
    }, tracer)({}, lambdaContext(header));
    const [span] = exporter.getFinishedSpans();
    assert.equal(activeTraceId, '5759e988bd862e3fe1be46a994272793');
    assert.equal(span?.spanContext().traceId, activeTraceId);
    assert.equal(span?.parentSpanContext?.spanId, '53995c3f42cd8ad8');
  });

  test("callback handlers: the span ends and flushes before the runtime's callback runs", async () => {
    const { tracer, state, exporter } = setup(10);
    const wrapped = wrapHandler((_event, _context, callback) => {
      setTimeout(() => callback?.(null, 'done'), 1);
    }, tracer);
    const seen = await new Promise<{ args: unknown[]; flushed: number; spans: number }>((resolve) => {
      wrapped({}, lambdaContext(), (...args: unknown[]) =>
        resolve({ args, flushed: state.flushed, spans: exporter.getFinishedSpans().length }),
      );
    });
    assert.deepEqual(seen, { args: [null, 'done'], flushed: 1, spans: 1 });
  });

  test("a synchronous throw in a callback handler reaches the runtime's callback, after the flush", async () => {
    const { tracer, state } = setup(5);
    const error = new Error('sync');
    const wrapped = wrapHandler((_e, _c, _cb) => {
      throw error;
    }, tracer);
    const seen = await new Promise<{ error: unknown; flushed: number }>((resolve) => {
      wrapped({}, lambdaContext(), (e: unknown) => resolve({ error: e, flushed: state.flushed }));
    });
    assert.equal(seen.error, error);
    assert.equal(seen.flushed, 1);
  });

  test('context.succeed / fail / done of the older runtime end the span first', async () => {
    const { tracer, exporter, state } = setup(5);
    for (const [method, arg, ok] of [
      ['succeed', 'r', true],
      ['fail', new Error('f'), false],
      ['done', null, true],
    ] as const) {
      const received = await new Promise<{ arg: unknown; flushed: number }>((resolve) => {
        const ctx = {
          ...lambdaContext(),
          [method]: (a: unknown) => resolve({ arg: a, flushed: state.flushed }),
        } as Record<string, unknown>;
        wrapHandler((_e, context) => {
          (context as Record<string, (a: unknown) => void>)[method]?.(arg);
        }, tracer)({}, ctx, () => {});
      });
      assert.equal(received.arg, arg);
      const span = exporter.getFinishedSpans().at(-1);
      assert.equal(span?.status.code, ok ? SpanStatusCode.UNSET : SpanStatusCode.ERROR, method);
    }
  });

  test('response-streaming markers are carried over', () => {
    const { tracer } = setup();
    const marker = Symbol.for('aws.lambda.runtime.handler.streaming');
    const handler = Object.assign(async () => 1, { [marker]: 'response' });
    assert.equal((wrapHandler(handler, tracer) as unknown as Record<symbol, unknown>)[marker], 'response');
  });

  test('a handler that returns after the deadline guard fired still waits for that flush', async () => {
    // 1200 ms left and the default 500 ms margin: the guard fires at 700 ms, its flush takes 200 ms.
    const { tracer, state } = setup(200);
    const deadline = Date.now() + 1200;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() };
    const wrapped = wrapHandler(async () => {
      await new Promise((resolve) => setTimeout(resolve, 750)); // returns just after the guard
      return 'late';
    }, tracer);
    assert.equal(await wrapped({}, context), 'late');
    // The guard's flush, then one for the spans ended since: the response waited for both.
    assert.equal(state.flushed, 2, "the response went out before the deadline guard's flush ended");
  });

  test('a span processor that throws when the deadline guard ends the span does not take the function down', async () => {
    const provider = new BasicTracerProvider({
      spanProcessors: [
        {
          onStart: () => {},
          onEnd: () => {
            throw new Error('processor bug');
          },
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    const tracer = new InvocationTracer({
      tracer: provider.getTracer('test'),
      flush: () => {
        throw new Error('flush bug');
      },
      config: loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'unit-fn' }).config,
      health: new ExportHealth(),
    });
    // 60 ms left, less than twice the margin: the guard fires at half of it.
    const deadline = Date.now() + 60;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() };
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const wrapped = wrapHandler(async () => {
        await new Promise((resolve) => setTimeout(resolve, 80));
        return 'late';
      }, tracer);
      assert.equal(await wrapped({}, context), 'late');
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
  });
});

describe('the deadline guard', () => {
  test('after it fired, the spans the handler ends before it answers are flushed before the answer too', async () => {
    const { exporter, provider, tracer, state } = setup();
    // 60 ms left, less than twice the margin: the guard fires at half of it, the handler answers at 80.
    const deadline = Date.now() + 60;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() };
    const wrapped = wrapHandler(async () => {
      const work = provider.getTracer('test').startSpan('late-work');
      await new Promise((resolve) => setTimeout(resolve, 80));
      work.end();
      return 'late';
    }, tracer);
    assert.equal(await wrapped({}, context), 'late');
    assert.equal(state.flushed, 2, 'the guard flushed, then the answer waited for a second flush');
    const names = exporter.getFinishedSpans().map((s) => s.name);
    assert.ok(names.includes('late-work'), names.join(', '));
    const invocation = exporter.getFinishedSpans().find((s) => s.name === 'unit-fn');
    assert.equal(invocation?.status.code, SpanStatusCode.ERROR);
    assert.match(invocation?.status.message ?? '', /timed out/);
  });
});

describe('wrapStreamingHandler', () => {
  const marker = Symbol.for('aws.lambda.runtime.handler.streaming');
  // The runtime's response stream is opaque to the wrapper: any object stands in for it here (the
  // real one is exercised end to end in test/e2e/layer-suite.ts).
  const stream = { name: 'the response stream' };

  test('the span is active in the handler, ends and flushes before the promise resolves, stream and arguments untouched', async () => {
    const { exporter, tracer, state } = setup(20);
    let seen: unknown[] = [];
    let activeInside: string | undefined;
    const handler = Object.assign(
      async (event: unknown, responseStream: unknown, ctx: unknown) => {
        seen = [event, responseStream, ctx];
        activeInside = trace.getActiveSpan()?.spanContext().spanId;
        return undefined;
      },
      { [marker]: 'response' },
    );
    const wrapped = wrapStreamingHandler(handler, tracer);
    assert.equal((wrapped as unknown as Record<symbol, unknown>)[marker], 'response');
    assert.equal(wrapped.length, 3);
    const ctx = lambdaContext('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    const result = await wrapped({ rawPath: '/x' }, stream, ctx);
    assert.equal(result, undefined);
    assert.deepEqual(seen, [{ rawPath: '/x' }, stream, ctx]);
    assert.equal(state.flushed, 1, 'flushed before the runtime got the resolved promise');
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.spanContext().spanId, activeInside);
    assert.equal(span.spanContext().traceId, '5759e988bd862e3fe1be46a994272793');
    assert.equal(span.attributes['faas.invocation_id'], 'req-1');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  test('a rejection and a synchronous throw reach the runtime unchanged, the span marked ERROR', async () => {
    const { exporter, tracer } = setup();
    const failure = new RangeError('stream broke');
    await assert.rejects(
      wrapStreamingHandler(async () => Promise.reject(failure), tracer)(
        {},
        stream,
        lambdaContext(),
      ) as Promise<unknown>,
      (error) => error === failure,
    );
    const thrown = new TypeError('sync');
    assert.throws(
      () =>
        wrapStreamingHandler(() => {
          throw thrown;
        }, tracer)({}, stream, lambdaContext()),
      (error) => error === thrown,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(spans[0]?.status.message, 'stream broke');
  });

  test('a handler that is not async gets its value back as it returned it (the runtime refuses it)', () => {
    const { exporter, tracer } = setup();
    const value = { not: 'a promise' };
    assert.equal(wrapStreamingHandler(() => value, tracer)({}, stream, lambdaContext()), value);
    assert.equal(exporter.getFinishedSpans()[0]?.status.code, SpanStatusCode.ERROR);
  });
});
