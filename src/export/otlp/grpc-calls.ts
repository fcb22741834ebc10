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

/** Anything that closes: a socket, an HTTP/2 session. */
interface Closable {
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Destroys `connection` after `graceMillis` unless it closed by then: a graceful close alone could
 * linger as long as TCP does on a peer that went silent. The timer never keeps the process alive.
 */
export function destroyAfter(connection: Closable, graceMillis: number): void {
  const timer = setTimeout(() => connection.destroy(), graceMillis);
  timer.unref();
  connection.once('close', () => clearTimeout(timer));
}
