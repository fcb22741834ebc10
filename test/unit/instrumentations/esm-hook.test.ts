import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

// A fresh process: whether import-in-the-middle is loaded is process state.
const SCRIPT = `
const { diag } = await import('@opentelemetry/api');
const warnings = [];
diag.setLogger({ warn: (m) => warnings.push(m), error() {}, info() {}, debug() {}, verbose() {} });
const { supportsSyncHooks } = await import('import-in-the-middle/supports-sync-hooks.mjs');
const { registerEsmHook } = await import(${JSON.stringify(new URL('../../../src/instrumentations/esm-hook.js', import.meta.url).href)});
await registerEsmHook(['http']);
const { createRequire } = await import('node:module');
const loaded = Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('import-in-the-middle'));
console.log(JSON.stringify({ supported: supportsSyncHooks(), warnings, loaded }));
`;

test('on a Node without synchronous loader hooks: one warning, and import-in-the-middle is not loaded', () => {
  const out = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      cwd: new URL('../../../../', import.meta.url),
      encoding: 'utf8',
    }),
  ) as { supported: boolean; warnings: string[]; loaded: boolean };
  if (out.supported) {
    // This Node has them: the hook registers, without a warning.
    assert.deepEqual(out.warnings, []);
    assert.equal(out.loaded, true);
  } else {
    assert.deepEqual(out.warnings, [
      `libraries imported from ESM are not instrumented on Node ${process.version}: it needs 22.22.3+ or 24.11.1+`,
    ]);
    assert.equal(out.loaded, false);
  }
});
