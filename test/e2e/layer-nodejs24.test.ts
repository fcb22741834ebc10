import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFunction } from '../helpers/traced-function.js';
import { defineLayerSuite } from './layer-suite.js';

defineLayerSuite('nodejs24.x');

test("nodejs24.x: a callback handler meets the runtime's own refusal, with or without the layer", async () => {
  const traced = await startFunction({ runtime: 'nodejs24.x', fixture: 'callback' });
  const plain = await startFunction({ runtime: 'nodejs24.x', fixture: 'callback', traced: false });
  try {
    const withLayer = await traced.invoke({});
    const without = await plain.invoke({});
    assert.equal(without.error?.errorType, 'Runtime.CallbackHandlerDeprecated');
    assert.equal(withLayer.error?.errorType, without.error?.errorType);
    assert.equal(withLayer.error?.errorMessage, without.error?.errorMessage);
  } finally {
    await traced.cleanup();
    await plain.cleanup();
  }
});
