import assert from 'node:assert/strict';
import { test } from 'node:test';
import { annotationKeyOf } from '../../../src/xray/annotations.js';

test('annotation keys are sanitised the same on every call, past the bound of remembered keys', () => {
  // More distinct keys than are remembered, each asked twice: the answer never depends on the cache.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 1500; i++) {
      assert.equal(annotationKeyOf(`tenant.id-${i}`), `tenant_id_${i}`);
    }
    assert.equal(annotationKeyOf(''), undefined);
    assert.equal(annotationKeyOf('faas.coldstart'), 'faas_coldstart');
    assert.equal(annotationKeyOf('x'.repeat(600)), 'x'.repeat(500));
  }
});
