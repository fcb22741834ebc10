/** How a bounded flush ended. */
export type FlushOutcome = 'flushed' | 'timed-out' | 'failed';

/**
 * Exports what is pending: `undefined` when everything was handed over before it returned (the
 * usual case: the daemon's UDP socket, or a collector connection that took the request at once),
 * else a promise that settles when the exports end.
 */
export type Flush = () => Promise<void> | undefined;

/**
 * Waits for `flush` at most `boundMs`. The export itself may go on after the bound (it finishes
 * on the next thaw); the invocation's response does not wait for it.
 *
 * A flush that completed before returning gives its outcome at once, with no timer and no promise:
 * this runs before every response, and after a freeze every step of it is slow.
 */
export function flushWithinDeadline(flush: Flush, boundMs: number): FlushOutcome | Promise<FlushOutcome> {
  let flushing: Promise<void> | undefined;
  try {
    flushing = flush();
  } catch {
    return 'failed';
  }
  if (flushing === undefined) return 'flushed';
  const pending = flushing;
  return new Promise<FlushOutcome>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, boundMs), 'timed-out');
    const settle = (outcome: FlushOutcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    pending.then(
      () => settle('flushed'),
      () => settle('failed'),
    );
  });
}
