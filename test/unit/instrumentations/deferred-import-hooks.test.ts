import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Hook,
  type ImportHooksPackage,
  loadImportHooks,
} from '../../../src/instrumentations/deferred-import-hooks.js';

/** A stand-in for `import-in-the-middle` that records the hooks made and unhooked (the module state is this test's). */
function recordingPackage() {
  const made: unknown[][] = [];
  const unhooked: unknown[][] = [];
  const pkg: ImportHooksPackage = {
    Hook: class {
      private readonly args: unknown[];
      constructor(...args: unknown[]) {
        this.args = args;
        made.push(args);
      }
      unhook() {
        unhooked.push(this.args);
      }
    },
  };
  return { pkg, made, unhooked };
}

test('hooks wait for the package, are made in order once it loads, and unhook either side of it', async () => {
  const { pkg, made, unhooked } = recordingPackage();
  const onPg = () => undefined;
  const pg = new Hook(['pg'], { internals: true }, onPg);
  const dropped = new Hook(['mysql'], { internals: true }, onPg);
  new Hook(['http'], { internals: true }, onPg);
  dropped.unhook(); // disabled before any ESM handler appeared: never made
  assert.deepEqual(made, [], 'nothing is made before the package loads');

  let loads = 0;
  const load = async () => {
    loads += 1;
    return pkg;
  };
  await loadImportHooks(load);
  assert.deepEqual(made, [
    [['pg'], { internals: true }, onPg],
    [['http'], { internals: true }, onPg],
  ]);

  // Once loaded: a new hook is made at once, and unhooking reaches the real hook.
  new Hook(['sequelize'], { internals: true }, onPg);
  assert.deepEqual(made.at(-1), [['sequelize'], { internals: true }, onPg]);
  pg.unhook();
  assert.deepEqual(unhooked, [[['pg'], { internals: true }, onPg]]);
  pg.unhook(); // twice is harmless
  assert.equal(unhooked.length, 1);

  await loadImportHooks(load);
  assert.equal(loads, 1, 'the package is loaded once');
});
