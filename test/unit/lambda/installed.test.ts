import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { anyInstalled } from '../../../src/instrumentations/installed.js';

const root = mkdtempSync(path.join(tmpdir(), 'installed-'));
after(() => rmSync(root, { recursive: true, force: true }));
const install = (folder: string, name: string) => {
  mkdirSync(path.join(folder, name), { recursive: true });
  writeFileSync(path.join(folder, name, 'package.json'), '{}');
};

test('a package in the task root, above it, or on NODE_PATH counts; a missing one does not', () => {
  const taskRoot = path.join(root, 'app', 'task');
  const layer = path.join(root, 'opt', 'nodejs', 'node_modules');
  mkdirSync(taskRoot, { recursive: true });
  install(path.join(taskRoot, 'node_modules'), 'pg');
  install(path.join(root, 'app', 'node_modules'), 'sequelize');
  install(layer, '@aws-sdk/client-sqs');
  const search = { taskRoot, nodePath: `/nonexistent:${layer}` };
  assert.equal(anyInstalled(['pg'], search), true);
  assert.equal(anyInstalled(['sequelize'], search), true);
  assert.equal(anyInstalled(['@aws-sdk/client-*'], search), true);
  assert.equal(anyInstalled(['mysql2', '@aws-sdk/lib-*'], search), false);
  assert.equal(anyInstalled(['@aws-sdk/client-*'], { taskRoot, nodePath: undefined }), false);
});
