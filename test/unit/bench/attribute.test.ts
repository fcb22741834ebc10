/**
 * How the benchmark assigns spans to the invocations of a round, where the setups take turns: by
 * trace ID, else by the stretch of the round each span ended in, never to another setup's invocation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attribute, type Window } from '../../../bench/lib/measure.js';

const window = (owner: number, startMs: number, traceId: string | undefined, counted: boolean): Window => ({
  owner,
  startMs,
  collectedMs: counted ? startMs + 5 : Number.POSITIVE_INFINITY,
  traceId,
  counted,
});

describe('attribute', () => {
  it('counts each run its own spans; init-time spans and failed invocations count for no one', () => {
    const windows = [
      window(0, 100, undefined, false), // run 0 starts
      window(0, 110, 'a1', true),
      window(1, 120, undefined, false), // run 1 starts
      window(1, 130, 'b1', true),
      window(0, 140, 'a2', false), // run 0's second invocation fails
      window(1, 150, 'b2', true),
    ];
    const counts = attribute(
      [
        { traceId: 'a1', endMs: 111, collectedMs: 115 }, // in a1, before its freeze
        { traceId: 'b1', endMs: 131, collectedMs: 155 }, // in b1, arrived late
        { traceId: 'zz', endMs: 121, collectedMs: 125 }, // run 1's init: no one's
        { traceId: 'a2', endMs: 141, collectedMs: 145 }, // the failed invocation's: no one's
        { traceId: 'yy', endMs: 142, collectedMs: 145 }, // not in any trace, during the failure
        { traceId: 'b2', endMs: 151, collectedMs: 155 },
        { traceId: 'xx', endMs: 152, collectedMs: 155 }, // b2's time, another trace: not joined
      ],
      windows,
      2,
    );
    assert.deepEqual(counts, [
      { spans: 1, beforeFreeze: 1, joined: 1, withSpans: 1 },
      { spans: 3, beforeFreeze: 2, joined: 1, withSpans: 2 },
    ]);
  });
});
