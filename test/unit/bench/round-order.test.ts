import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roundOrder } from '../../../bench/lib/round-order.js';

const setups = [
  'baseline',
  'ours',
  'ours-grpc',
  'ours-udp',
  'adot',
  'adot-otlp',
  'adot-grpc',
  'adot-pg',
  'otel-lambda',
  'xray-sdk',
];

test('every round is a permutation of the setups, the same in every run', () => {
  const given = [...setups];
  for (let round = 0; round < 10; round++) {
    const order = roundOrder(setups, round);
    assert.deepEqual([...order].sort(), [...setups].sort());
    assert.deepEqual(roundOrder(setups, round), order, 'seeded by the round: reproducible');
  }
  assert.deepEqual(setups, given, 'the input is left as it was');
});

test('over ten rounds no setup keeps the same predecessor, nor the same place', () => {
  const orders = Array.from({ length: 10 }, (_, round) => roundOrder(setups, round));
  for (const setup of setups) {
    const predecessors = new Set(orders.map((order) => order[order.indexOf(setup) - 1] ?? '(first)'));
    const places = new Set(orders.map((order) => order.indexOf(setup)));
    // A rotation gives every setup but the first in the list one predecessor in nine rounds of ten.
    assert.ok(predecessors.size >= 4, `${setup} followed only ${[...predecessors].join(', ')}`);
    assert.ok(places.size >= 4, `${setup} took only places ${[...places].join(', ')}`);
  }
});
