import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { newExceptionId } from '../../../src/xray/ids.js';

test('exception IDs are 16 lowercase hex digits, never all zero, distinct', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const id = newExceptionId();
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.notEqual(id, '0000000000000000');
    ids.add(id);
  }
  assert.equal(ids.size, 10_000);
});

test('the X-Ray exporter and its translation do not load node:crypto (a cold-start cost)', () => {
  const modules = ['udp-exporter.js', 'segment-document.js', 'cause.js', 'id-generator.js'].map(
    (file) => new URL(`../../../src/xray/${file}`, import.meta.url).href,
  );
  const script = `
    for (const url of ${JSON.stringify(modules)}) await import(url);
    process.stdout.write(process.moduleLoadList.filter((m) => m === 'NativeModule crypto').join(','));`;
  const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(loaded, '');
});
