/**
 * Calls `onDeadline` `marginMs` before the invocation's deadline, unless cancelled first. Lambda
 * stops a function that reaches its deadline at once, so the invocation span must be ended and
 * flushed before that moment or it is lost, and with it the very trace that shows the timeout.
 */
export class DeadlineGuard {
  private timer: NodeJS.Timeout | undefined;
  private firedFlag = false;

  constructor(remainingMs: number | undefined, marginMs: number, onDeadline: () => void) {
    if (remainingMs === undefined || !Number.isFinite(remainingMs)) return;
    // With less time left than the margin, still leave the handler most of what remains.
    const delay = remainingMs > marginMs * 2 ? remainingMs - marginMs : remainingMs / 2;
    this.timer = setTimeout(() => {
      this.firedFlag = true;
      onDeadline();
    }, delay);
    // The guard must never be the reason a callback handler's event loop stays alive.
    this.timer.unref();
  }

  /** Whether the deadline was reached before the handler finished. */
  get fired(): boolean {
    return this.firedFlag;
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}
