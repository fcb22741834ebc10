import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KNOWN_INSTRUMENTATIONS } from '../../../src/config/load-config.js';
import { INSTRUMENTATIONS } from '../../../src/instrumentations/registry.js';

test('the configuration knows exactly the instrumentations the registry can load', () => {
  assert.deepEqual([...KNOWN_INSTRUMENTATIONS].sort(), Object.keys(INSTRUMENTATIONS).sort());
});

test('every instrumentation names the modules the ESM hook must wrap for it', () => {
  for (const [name, entry] of Object.entries(INSTRUMENTATIONS)) {
    assert.ok(entry.modules.length > 0, `${name} names no module`);
  }
});
