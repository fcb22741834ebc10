/** How a bounded flush ended. */
export type FlushOutcome = 'flushed' | 'timed-out' | 'failed';

/**
 * Waits for `flush` at most `boundMs`. The export itself may go on after the bound (it finishes
 * on the next thaw); the invocation's response does not wait for it.
 */
export function flushWithinDeadline(flush: () => Promise<void>, boundMs: number): Promise<FlushOutcome> {
  // One promise and one timer: this runs before every response.
  return new Promise<FlushOutcome>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, boundMs), 'timed-out');
    const settle = (outcome: FlushOutcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    let flushing: Promise<void>;
    try {
      flushing = flush();
    } catch {
      settle('failed');
      return;
    }
    flushing.then(
      () => settle('flushed'),
      () => settle('failed'),
    );
  });
}
