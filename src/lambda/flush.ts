/** How a bounded flush ended. */
export type FlushOutcome = 'flushed' | 'timed-out' | 'failed';

/**
 * Waits for `flush` at most `boundMs`. The export itself may go on after the bound (it finishes
 * on the next thaw); the invocation's response does not wait for it.
 */
export async function flushWithinDeadline(
  flush: () => Promise<void>,
  boundMs: number,
): Promise<FlushOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<FlushOutcome>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, boundMs), 'timed-out');
  });
  try {
    return await Promise.race([
      flush().then(
        () => 'flushed' as const,
        () => 'failed' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
