import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineGuard, DeadlineTimer } from '../../../src/lambda/deadline-guard.js';

/** A guard for `remainingMs` (margin 10 ms), with when it fired, in ms since it was made. */
function guarded(remainingMs: number, timers?: DeadlineTimer) {
  const made = performance.now();
  const fired: number[] = [];
  const guard = new DeadlineGuard(remainingMs, 10, () => fired.push(performance.now() - made), timers);
  return { guard, fired };
}

describe('DeadlineGuard', () => {
  it('fires the margin before the deadline, once, and not after a cancel', async () => {
    const due = guarded(60);
    const cancelled = guarded(60);
    cancelled.guard.cancel();
    await sleep(120);
    assert.equal(due.fired.length, 1);
    assert.ok((due.fired[0] as number) >= 49, `fired after ${due.fired[0]} ms, 50 ms asked`);
    assert.equal(due.guard.fired, true);
    assert.deepEqual(cancelled.fired, []);
    assert.equal(cancelled.guard.fired, false);
  });

  it('asks timers only for delays Node takes: none negative (Node 24 warns), none past 2^31-1 ms', async () => {
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((callback: () => void, delay?: number) => {
      delays.push(delay ?? 0);
      return realSetTimeout(callback, delay);
    }) as typeof setTimeout;
    let late: ReturnType<typeof guarded>;
    let far: ReturnType<typeof guarded>;
    try {
      late = guarded(-5);
      // Longer than a Node timer takes (it would go off after 1 ms): the guard waits in steps.
      far = guarded(2 ** 31 + 5000, new DeadlineTimer());
      await sleep(30);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    far.guard.cancel();
    assert.equal(late.fired.length, 1, 'no time left: fires at once');
    assert.deepEqual(far.fired, [], 'a far deadline does not fire early');
    assert.ok(delays.length <= 3, `timers asked: ${delays.join(', ')}`);
    for (const delay of delays) assert.ok(delay >= 0 && delay <= 2 ** 31 - 1, `delay ${delay}`);
  });

  it('without a deadline (no remaining time), never fires', async () => {
    const none = guarded(Number.NaN);
    await sleep(20);
    assert.deepEqual(none.fired, []);
  });
});

/** After `waitMs`, the guard has fired once, and not before the `askedMs` it waited for. */
async function assertFiredOnce(guard: ReturnType<typeof guarded>, askedMs: number, waitMs: number) {
  await sleep(waitMs);
  assert.equal(guard.fired.length, 1);
  assert.ok(
    (guard.fired[0] as number) >= askedMs - 1,
    `fired after ${guard.fired[0]} ms, ${askedMs} ms asked`,
  );
}

describe('DeadlineTimer', () => {
  it('is kept from one invocation to the next, and each guard still fires at its own deadline', async () => {
    const timers = new DeadlineTimer();
    for (let invocation = 0; invocation < 5; invocation++) guarded(3000, timers).guard.cancel();
    assert.equal(timers.made, 1, 'one timer for five invocations with the same deadline');

    // The kept timer was made for 2990 ms; a guard asking 40 ms farther than a shorter kept delay
    // gets the kept timer early, and waits the rest itself.
    const shortTimers = new DeadlineTimer();
    guarded(60, shortTimers).guard.cancel();
    const later = guarded(100, shortTimers);
    assert.equal(shortTimers.made, 1);
    await assertFiredOnce(later, 90, 150);
  });

  it('is left as it is while it goes off in the second half of the next wait, refreshed after that', async () => {
    const timers = new DeadlineTimer();
    for (let invocation = 0; invocation < 5; invocation++) guarded(110, timers).guard.cancel();
    assert.equal(timers.refreshed, 0, 'invocations close together touch no timer');
    assert.equal(timers.made, 1);
    await sleep(60); // Past half of the kept timer's 100 ms (or past all of it, on a busy machine).
    const later = guarded(110, timers);
    assert.equal(timers.refreshed, 1);
    assert.equal(timers.made, 1);
    await assertFiredOnce(later, 100, 150);
  });

  it('makes a new timer for a nearer deadline: a kept timer never goes off late', async () => {
    const timers = new DeadlineTimer();
    guarded(3000, timers).guard.cancel();
    const nearer = guarded(60, timers);
    assert.equal(timers.made, 2);
    await sleep(120);
    assert.equal(nearer.fired.length, 1);
    assert.ok((nearer.fired[0] as number) < 1000);
  });

  it('serves one invocation at a time: others running at once get timers of their own', async () => {
    const timers = new DeadlineTimer();
    const first = guarded(60, timers);
    const second = guarded(60, timers);
    // The first is done early; the second must still fire, and the first never.
    first.guard.cancel();
    await sleep(120);
    assert.deepEqual(first.fired, []);
    assert.equal(second.fired.length, 1);
    assert.equal(timers.made, 1, 'the second made its own timer, not a kept one');
  });

  it('a kept timer going off with no invocation holding it does nothing, and can be held again', async () => {
    const timers = new DeadlineTimer();
    const done = guarded(30, timers);
    done.guard.cancel();
    await sleep(60); // It went off while idle.
    assert.deepEqual(done.fired, []);
    const next = guarded(30, timers);
    await sleep(60);
    assert.equal(next.fired.length, 1);
    assert.equal(timers.made, 1);
  });
});
