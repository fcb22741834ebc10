import { performance } from 'node:perf_hooks';

/**
 * How much earlier than asked a kept timer may fire, for `refresh()` to re-arm it rather than a new
 * timer being made (the guard then waits the rest).
 */
const REUSE_EARLY_MS = 1000;

/** The longest delay a Node timer takes (a longer one goes off after 1 ms); the guard waits again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `onDeadline` `marginMs` before the invocation's deadline, unless cancelled first. Lambda
 * stops a function that reaches its deadline at once, so the invocation span must be ended and
 * flushed before that moment or it is lost, and with it the very trace that shows the timeout.
 *
 * Given a {@link DeadlineTimer}, it arms that one rather than making a timer of its own; when it
 * is held by another invocation (several run at once), or there is none, it makes its own.
 */
export class DeadlineGuard {
  /** Its own timer: none kept, or the kept one fired early and the guard waits the rest. */
  private timer: NodeJS.Timeout | undefined;
  private kept: DeadlineTimer | undefined;
  private dueAt = 0;
  private firedFlag = false;

  constructor(
    remainingMs: number | undefined,
    marginMs: number,
    private readonly onDeadline: () => void,
    timers?: DeadlineTimer,
  ) {
    if (remainingMs === undefined || !Number.isFinite(remainingMs)) return;
    // With less time left than the margin, still leave the handler most of what remains.
    const delay = Math.max(0, remainingMs > marginMs * 2 ? remainingMs - marginMs : remainingMs / 2);
    const now = performance.now();
    this.dueAt = now + delay;
    if (timers?.hold(this, delay, now) === true) this.kept = timers;
    else this.wait(delay);
  }

  /** Whether the deadline was reached before the handler finished. */
  get fired(): boolean {
    return this.firedFlag;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.kept?.release(this);
  }

  /** A timer went off: at the deadline, or (the kept timer, armed for a shorter delay) before it. */
  timerFired(): void {
    const left = this.dueAt - performance.now();
    if (left >= 1) {
      this.wait(left);
      return;
    }
    this.firedFlag = true;
    this.onDeadline();
  }

  private wait(ms: number): void {
    this.timer = setTimeout(() => this.timerFired(), Math.min(ms, MAX_TIMER_MS));
    // The guard must never be the reason a callback handler's event loop stays alive.
    this.timer.unref();
  }
}

/**
 * One timer kept from invocation to invocation for their deadline guards, instead of a timer made
 * and cleared on every invocation's way to the user's handler (a `Timeout`, its async resource and
 * a timer list of its own duration, after every freeze). While it is still set to go off before the
 * next guard's deadline, and not within the first half of that guard's wait, it is left as it is:
 * invocations that follow each other closely (where the per-invocation cost shows) touch no timer
 * at all, and one that runs long meets it early and its guard waits the rest. Otherwise it is
 * re-armed with `refresh()` when the next deadline is as far as the one it was made for or a little
 * farther (as it is, the function's timeout being the same each time), or made anew. When a guard
 * is done, the timer is let go but not cleared: if it goes off with no guard holding it (frozen
 * past it, or idle), nothing happens; it is unref'd, so it keeps nothing alive.
 */
export class DeadlineTimer {
  /** Timers made so far (for tests and diagnostics). */
  made = 0;
  /** Timers re-armed with `refresh()` so far (for tests and diagnostics). */
  refreshed = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The delay the timer was made with, which `refresh()` arms it for again. */
  private delayMs = 0;
  /** When the timer goes off (`performance.now()` time); -Infinity once it went off. */
  private dueAt = Number.NEGATIVE_INFINITY;
  private holder: DeadlineGuard | undefined;

  /**
   * Has the timer go off for `guard` at most `delayMs` from `now` (`performance.now()`): left as it
   * is when it goes off in the second half of that, re-armed or made anew otherwise (re-armed, it
   * may go off up to a second early); the guard waits the rest when it goes off early. `false` when
   * another guard holds it.
   */
  hold(guard: DeadlineGuard, delayMs: number, now: number = performance.now()): boolean {
    if (this.holder !== undefined) return false;
    this.holder = guard;
    if (this.dueAt <= now + delayMs && this.dueAt - now >= delayMs / 2) return true;
    if (this.timer !== undefined && delayMs >= this.delayMs && delayMs - this.delayMs <= REUSE_EARLY_MS) {
      this.timer.refresh();
      this.refreshed += 1;
      this.dueAt = now + this.delayMs;
      return true;
    }
    clearTimeout(this.timer);
    this.delayMs = delayMs;
    this.timer = setTimeout(() => this.wentOff(), Math.min(delayMs, MAX_TIMER_MS));
    this.timer.unref();
    this.made += 1;
    // A delay Node cannot take is waited in turns: the timer then goes off before the deadline.
    this.dueAt = now + Math.min(delayMs, MAX_TIMER_MS);
    return true;
  }

  /** `guard` no longer needs the timer (cancelled, or it went off). */
  release(guard: DeadlineGuard): void {
    if (this.holder === guard) this.holder = undefined;
  }

  private wentOff(): void {
    this.dueAt = Number.NEGATIVE_INFINITY;
    const guard = this.holder;
    this.holder = undefined;
    guard?.timerFired();
  }
}
