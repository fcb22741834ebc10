import { GrpcCallError, GrpcStatus } from './grpc-status.js';

/** What the two gRPC clients (`PlainGrpcClient`, `GrpcHttp2Client`) share to run their calls. */

/** One call's deadline, see {@link CallDeadlines.start}. */
export interface CallDeadline {
  /** Stops the deadline (the call ended); harmless when called again. */
  end(): void;
  /** The call stops keeping the process alive; it goes on. */
  release(): void;
}

/**
 * The deadline timers of a client's calls in flight: ref'd, each is the only thing of its call that
 * keeps the process alive (the connections are unref'd), until the call ends or is released.
 */
export class CallDeadlines {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Calls `onTimeout` after `timeoutMillis` unless the call ends first. */
  start(timeoutMillis: number, onTimeout: () => void): CallDeadline {
    const timer = setTimeout(onTimeout, timeoutMillis);
    this.timers.add(timer);
    return {
      end: () => {
        clearTimeout(timer);
        this.timers.delete(timer);
      },
      release: () => timer.unref(),
    };
  }

  /** Every call in flight stops keeping the process alive; they go on. */
  releaseAll(): void {
    for (const timer of this.timers) timer.unref();
  }
}

/** A connection: a socket, an HTTP/2 session. */
interface Closable {
  destroy(): void;
  ref(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** The pending `destroyWithin` of each connection: when, and its timer. */
const destroyDeadlines = new WeakMap<Closable, { at: number; timer: NodeJS.Timeout }>();

/**
 * Destroys `connection` within `graceMillis` unless it closed by then: a graceful close alone could
 * linger as long as TCP does on a peer that went silent. Called again, the earlier deadline wins;
 * one timer and one listener per connection, however many calls retire it. The timer never keeps
 * the process alive.
 */
export function destroyWithin(connection: Closable, graceMillis: number): void {
  const at = Date.now() + graceMillis;
  const pending = destroyDeadlines.get(connection);
  if (pending !== undefined && pending.at <= at) return;
  if (pending === undefined) {
    connection.once('close', () => clearTimeout(destroyDeadlines.get(connection)?.timer));
  } else {
    clearTimeout(pending.timer);
  }
  const timer = setTimeout(() => connection.destroy(), graceMillis);
  timer.unref();
  destroyDeadlines.set(connection, { at, timer });
}

/**
 * Resolves once `connection` has closed, after `retire` started closing it. Ref'd meanwhile:
 * otherwise the process may exit with the close still pending, leaving `await shutdown()`
 * unsettled (exit code 13 at an ES module's top level).
 */
export function closed(connection: Closable, retire: () => void): Promise<void> {
  connection.ref();
  const done = new Promise<void>((resolve) => connection.once('close', () => resolve()));
  retire();
  return done;
}

/** The error of a call that got no answer by its deadline. */
export function deadlineExceeded(timeoutMillis: number): GrpcCallError {
  return new GrpcCallError(
    `OTLP export timed out: no gRPC response within ${timeoutMillis} ms`,
    GrpcStatus.DEADLINE_EXCEEDED,
  );
}

/** The error of a call that failed before any response (`reason`: what the connection said). */
export function failedBeforeResponse(reason: string, cause: unknown): GrpcCallError {
  return new GrpcCallError(`OTLP export failed before any response: ${reason}`, GrpcStatus.UNAVAILABLE, {
    cause,
  });
}
