import { runInContext } from '../context/run-in-context.js';
import { type ActiveInvocation, FINISHED, type InvocationTracer, type Outcome } from './invocation.js';
import type { TraceableLambdaContext } from './parent-context.js';

/** A Lambda handler as the runtime sees it. */
export type LambdaHandler = (event: unknown, context: unknown, callback?: LambdaCallback) => unknown;
export type LambdaCallback = (error?: unknown, result?: unknown) => void;

type LegacyContextMethod = 'succeed' | 'fail' | 'done';

/**
 * Wraps the user's handler so every invocation runs inside its span, which is ended and flushed
 * before the runtime receives the result or the error, both passed on unchanged.
 *
 * The wrapper reports the same `length` as the user's handler: the nodejs24.x runtime rejects
 * handlers with three parameters (callback style), so an async handler must never look like one,
 * and a callback handler must meet the runtime's own verdict, not a different one caused by us.
 * Runtimes that pass a callback always pass it as the third argument, whatever `length` says.
 */
export function wrapHandler(handler: LambdaHandler, tracer: InvocationTracer): LambdaHandler {
  function tracedHandler(this: unknown, event: unknown, lambdaContext: unknown, ...rest: unknown[]): unknown {
    let invocation: ActiveInvocation;
    try {
      invocation = tracer.start(event, lambdaContext as TraceableLambdaContext | undefined);
    } catch {
      // Tracing failed before the handler ran: run it exactly as if the layer were absent.
      return handler.call(this, event, lambdaContext, ...(rest as [LambdaCallback?]));
    }
    const runtimeCallback = typeof rest[0] === 'function' ? (rest[0] as LambdaCallback) : undefined;
    let answered = false;
    let onEmptyLoop: (() => void) | undefined;
    const finishThen = (outcome: Outcome, report: () => void): void => {
      answered = true;
      if (onEmptyLoop !== undefined) process.removeListener('beforeExit', onEmptyLoop);
      invocation.finish(outcome).then(report, report);
    };

    const callback: LambdaCallback | undefined =
      runtimeCallback &&
      ((error?: unknown, result?: unknown) => {
        const outcome: Outcome =
          error === undefined || error === null ? { ok: true, result } : { ok: false, error };
        finishThen(outcome, () => runtimeCallback(error, result));
      });
    wrapLegacyContextMethods(lambdaContext, finishThen);

    let returned: unknown;
    try {
      returned = runInContext(invocation.context, () =>
        callback
          ? handler.call(this, event, lambdaContext, callback)
          : handler.call(this, event, lambdaContext),
      );
    } catch (error) {
      // A synchronous throw: the runtime must receive the same error, after the flush. A runtime
      // with callbacks answers a throw by calling its callback with it, so the wrapper does that.
      if (callback) {
        callback(error);
        return undefined;
      }
      return invocation.finish({ ok: false, error }).then(() => Promise.reject(error));
    }
    if (isThenable(returned))
      return settleAfterFinish(invocation, returned, (result) => ({ ok: true, result }));
    if (!callback) {
      // A synchronous handler on a runtime without callbacks: its return value is the result.
      return invocation.finish({ ok: true, result: returned }).then(() => returned);
    }
    if (!answered) {
      // It may call back later; or never, and then the runtime answers null once the event loop
      // is empty ('beforeExit'). The span ends and its export starts then, just before that answer
      // (this listener runs before the runtime's own, which was added at start-up).
      onEmptyLoop = () => void invocation.finish({ ok: true, result: null });
      process.prependOnceListener('beforeExit', onEmptyLoop);
    }
    return returned;
  }
  Object.defineProperty(tracedHandler, 'length', { value: handler.length });
  copyRuntimeMarkers(handler, tracedHandler);
  return tracedHandler;
}

/** A response-streaming handler (`awslambda.streamifyResponse`) as the runtime calls it. */
export type StreamingHandler = (event: unknown, responseStream: unknown, context: unknown) => unknown;

/**
 * Wraps a response-streaming handler. Both runtime generations call it with `(event,
 * responseStream, context)`, wait for the promise it returns, then for the stream's request to the
 * Runtime API to end, and only then ask for the next event (and are frozen): the span ends and is
 * flushed when the promise settles, before that. The stream is passed through untouched; the
 * promise's outcome, or the synchronous throw, reaches the runtime unchanged.
 */
export function wrapStreamingHandler(handler: StreamingHandler, tracer: InvocationTracer): StreamingHandler {
  function tracedStreamingHandler(
    this: unknown,
    event: unknown,
    responseStream: unknown,
    lambdaContext: unknown,
    ...rest: unknown[]
  ): unknown {
    const call = () =>
      (handler as (...args: unknown[]) => unknown).call(this, event, responseStream, lambdaContext, ...rest);
    let invocation: ActiveInvocation;
    try {
      invocation = tracer.start(event, lambdaContext as TraceableLambdaContext | undefined);
    } catch {
      return call();
    }
    let returned: unknown;
    try {
      returned = runInContext(invocation.context, call);
    } catch (error) {
      // The runtime fails the invocation at once: the flush is started, the error goes on unchanged.
      void invocation.finish({ ok: false, error });
      throw error;
    }
    if (!isThenable(returned)) {
      // The runtime refuses a streaming handler that is not async; it says so itself.
      void invocation.finish({
        ok: false,
        error: new Error('Streaming does not support non-async handlers.'),
      });
      return returned;
    }
    return settleAfterFinish(invocation, returned, () => ({ ok: true, streamed: true }));
  }
  Object.defineProperty(tracedStreamingHandler, 'length', { value: handler.length });
  copyRuntimeMarkers(handler as LambdaHandler, tracedStreamingHandler as LambdaHandler);
  return tracedStreamingHandler;
}

/**
 * The handler's promise as the runtime must see it (resolved or rejected with the same value),
 * once the span is ended and flushed; `success` is the outcome a resolution stands for.
 */
function settleAfterFinish(
  invocation: ActiveInvocation,
  returned: PromiseLike<unknown>,
  success: (result: unknown) => Outcome,
): Promise<unknown> {
  // When the finish left nothing to wait for (the usual case), the value goes on as it is: a
  // promise returned here would cost the runtime's `await` two more turns, after every freeze.
  return Promise.resolve(returned).then(
    (result) => {
      const finishing = invocation.finish(success(result));
      return finishing === FINISHED ? result : finishing.then(() => result);
    },
    (error: unknown) => {
      const finishing = invocation.finish({ ok: false, error });
      if (finishing === FINISHED) throw error;
      return finishing.then(() => Promise.reject(error));
    },
  );
}

/**
 * The older runtime generation still gives `context.succeed/fail/done`; a handler that answers
 * through them must get its span ended and flushed first, as with the callback.
 */
function wrapLegacyContextMethods(
  lambdaContext: unknown,
  finishThen: (outcome: Outcome, report: () => void) => void,
): void {
  if (typeof lambdaContext !== 'object' || lambdaContext === null) return;
  const ctx = lambdaContext as Record<LegacyContextMethod, unknown>;
  // The nodejs24.x runtime's context has none of them: nothing to wrap, nothing to allocate.
  if (typeof ctx.succeed !== 'function' && typeof ctx.fail !== 'function' && typeof ctx.done !== 'function') {
    return;
  }
  const outcomes: Record<LegacyContextMethod, (a?: unknown, b?: unknown) => Outcome> = {
    succeed: (result) => ({ ok: true, result }),
    fail: (error) => ({ ok: false, error }),
    done: (error, result) =>
      error === undefined || error === null ? { ok: true, result } : { ok: false, error },
  };
  for (const name of Object.keys(outcomes) as LegacyContextMethod[]) {
    const original = ctx[name];
    if (typeof original !== 'function') continue;
    try {
      ctx[name] = (a?: unknown, b?: unknown) =>
        finishThen(outcomes[name](a, b), () => original.call(ctx, a, b));
    } catch {
      // A read-only property: leave it; the span then ends when the runtime's callback path does.
    }
  }
}

/** Response-streaming handlers carry symbol markers the runtime reads; the wrapper must carry them too. */
function copyRuntimeMarkers(from: LambdaHandler, to: LambdaHandler): void {
  for (const key of Object.getOwnPropertySymbols(from)) {
    (to as unknown as Record<symbol, unknown>)[key] = (from as unknown as Record<symbol, unknown>)[key];
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
