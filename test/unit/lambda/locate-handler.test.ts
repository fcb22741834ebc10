import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isEsmHandler, locateHandler } from '../../../src/lambda/load-user-handler.js';

const root = mkdtempSync(path.join(tmpdir(), 'locate-'));
after(() => rmSync(root, { recursive: true, force: true }));
const write = (file: string, text = '') => {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
};

test('ESM or not, as the runtime will load it', () => {
  write('cjs/index.js');
  write('cjs/package.json', '{"type":"commonjs"}');
  write('mjs/index.mjs');
  write('typed/package.json', '{"type":"module"}');
  write('typed/src/app.js');
  write('typed/src/forced.cjs');
  assert.equal(isEsmHandler(locateHandler(root, 'cjs/index.handler')), false);
  assert.equal(isEsmHandler(locateHandler(root, 'mjs/index.handler')), true);
  assert.equal(isEsmHandler(locateHandler(root, 'typed/src/app.handler')), true);
  assert.equal(isEsmHandler(locateHandler(root, 'typed/src/forced.handler')), false);
  assert.equal(isEsmHandler(locateHandler(root, 'missing.handler')), false);
});

test('a handler string is split like the runtime splits it', () => {
  write('src/app.js');
  const location = locateHandler(root, 'src/app.handlers.main');
  assert.equal(location.moduleRoot, 'src');
  assert.equal(location.moduleName, 'app');
  assert.equal(location.handlerName, 'handlers.main');
  assert.equal(location.file, path.join(root, 'src/app.js'));
});
