import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flushWithinDeadline } from '../../../src/lambda/flush.js';

describe('flushWithinDeadline', () => {
  it('says how the flush ended: flushed, failed (rejected or thrown) or timed out at the bound', async () => {
    assert.equal(await flushWithinDeadline(() => Promise.resolve(), 1000), 'flushed');
    assert.equal(await flushWithinDeadline(() => Promise.reject(new Error('no')), 1000), 'failed');
    assert.equal(
      await flushWithinDeadline(() => {
        throw new Error('sync');
      }, 1000),
      'failed',
    );
    const started = performance.now();
    assert.equal(await flushWithinDeadline(() => new Promise(() => {}), 50), 'timed-out');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 45 && elapsed < 1000, `${elapsed} ms`);
  });

  it('answers at once, with no promise, when the flush had nothing left running', () => {
    assert.equal(
      flushWithinDeadline(() => undefined, 1000),
      'flushed',
    );
    assert.equal(
      flushWithinDeadline(() => {
        throw new Error('sync');
      }, 1000),
      'failed',
    );
    assert.ok(flushWithinDeadline(() => Promise.resolve(), 1000) instanceof Promise);
  });
});
