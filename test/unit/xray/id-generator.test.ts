import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { XRayIdGenerator } from '../../../src/xray/id-generator.js';

const generator = new XRayIdGenerator();

test('span IDs are 16 lowercase hex digits, valid and distinct', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const id = generator.generateSpanId();
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.ok(isValidSpanId(id), id);
    ids.add(id);
  }
  assert.equal(ids.size, 10_000);
});

test('span IDs keep their leading zeros and use both halves', (t) => {
  const draws = [0x0000_00ff / 2 ** 32, 0xabcd_ef01 / 2 ** 32];
  t.mock.method(Math, 'random', () => draws.shift() ?? 0.5);
  assert.equal(generator.generateSpanId(), '000000ffabcdef01');
});

test('an all-zero draw never becomes the invalid span ID', (t) => {
  t.mock.method(Math, 'random', () => 0);
  const id = generator.generateSpanId();
  assert.equal(id, '0000000000000001');
  assert.ok(isValidSpanId(id));
});

test('trace IDs start with the epoch second, as X-Ray requires', () => {
  const before = Math.floor(Date.now() / 1000);
  const id = generator.generateTraceId();
  const after = Math.floor(Date.now() / 1000);
  assert.ok(isValidTraceId(id));
  const epoch = Number.parseInt(id.slice(0, 8), 16);
  assert.ok(epoch >= before && epoch <= after, `${epoch} not in [${before}, ${after}]`);
});
