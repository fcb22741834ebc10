import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LAYER_DIR } from '../helpers/traced-function.js';

test('the layer holds the wrapper (executable), the entry, the collector config and the helpers', () => {
  const zip = path.join(path.dirname(LAYER_DIR), 'layer.zip');
  const listing = execFileSync('unzip', ['-Z', zip], { encoding: 'utf8' });
  assert.match(listing, /^-rwx.* otel-handler$/m, 'otel-handler must be executable in the zip');
  for (const entry of [
    'collector-config.yaml',
    'otel-lambda-xray/handler.mjs',
    'otel-lambda-xray/lib.cjs',
    'otel-lambda-xray/node_modules/import-in-the-middle/package.json',
    'nodejs/node_modules/@opentelemetry/api/package.json',
    'nodejs/node_modules/otel-lambda-xray/index.js',
  ]) {
    assert.ok(listing.includes(` ${entry}\n`), `layer.zip lacks ${entry}`);
    assert.ok(existsSync(path.join(LAYER_DIR, entry)), `${LAYER_DIR} lacks ${entry}`);
  }
});

test('a CommonJS function can require the public helpers from the layer alone', () => {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      "const m = require('otel-lambda-xray'); console.log(typeof m.forEachSqsRecord, typeof m.forEachSqsMessage)",
    ],
    {
      env: { PATH: process.env.PATH ?? '', NODE_PATH: path.join(LAYER_DIR, 'nodejs/node_modules') },
      cwd: '/',
      encoding: 'utf8',
    },
  );
  assert.equal(out.trim(), 'function function');
});

test('the bundle carries only the semantic conventions the instrumentations read', () => {
  const bundle = readFileSync(path.join(LAYER_DIR, 'otel-lambda-xray/lib.cjs'), 'utf8');
  // Read by instrumentation-http (CommonJS, through the subset module layer/build.mjs makes)...
  assert.ok(bundle.includes('"http.request.method"'), 'a constant the http instrumentation reads is missing');
  // ...while the rest of the package's CommonJS index, 80 KB of constants for other systems, is not.
  for (const unused of ['aspnetcore.rate_limiting.result', 'signalr.connection.status']) {
    assert.ok(!bundle.includes(unused), `the bundle holds the whole semantic conventions index (${unused})`);
  }
});

test('loading the bundle loads neither import-in-the-middle nor node:worker_threads', () => {
  // Only an ESM handler needs the package; the bundle's stand-in loads it then.
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(path.join(LAYER_DIR, 'otel-lambda-xray/lib.cjs'))});
       console.log(Object.keys(require.cache).filter((f) => f.includes('import-in-the-middle')).length,
         process.moduleLoadList.includes('NativeModule worker_threads'))`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.trim(), '0 false');
});

test('otel-handler finds the layer however it is run: by absolute path, relative path or from its folder', () => {
  const layerDir = realpathSync(LAYER_DIR);
  const entry = path.join(layerDir, 'otel-lambda-xray/handler.handler');
  const handlerSeen = (file: string, args: string[], cwd: string, PATH = process.env.PATH ?? '') =>
    execFileSync(file, [...args, '/bin/sh', '-c', 'printf %s "$_HANDLER"'], {
      encoding: 'utf8',
      cwd,
      env: { PATH, _HANDLER: 'index.handler' },
    });
  // As Lambda runs it (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler) it starts no other program to find
  // its folder (each would add milliseconds to the cold start): with no PATH it still finds it.
  assert.equal(handlerSeen(path.join(layerDir, 'otel-handler'), [], '/', '/nonexistent'), entry);
  assert.equal(handlerSeen('./otel-handler', [], layerDir), entry);
  assert.equal(handlerSeen(path.relative('/tmp', path.join(layerDir, 'otel-handler')), [], '/tmp'), entry);
  assert.equal(handlerSeen('/bin/sh', ['otel-handler'], layerDir), entry);
  // `..`, `.` and `//` resolved away: the runtime refuses a handler path with `..` in it.
  for (const odd of ['nodejs/../otel-handler', './otel-handler', 'nodejs//../otel-handler']) {
    assert.equal(handlerSeen(`${layerDir}/${odd}`, [], '/'), entry, odd);
  }
});

test('otel-handler points _HANDLER at the layer unless OTEL_SDK_DISABLED is true, in any case and spacing', () => {
  const handlerSeen = (extra: Record<string, string>) => {
    const output = execFileSync(
      path.join(LAYER_DIR, 'otel-handler'),
      ['/bin/sh', '-c', 'printf "%s|%s" "$_HANDLER" "$OTEL_LAMBDA_XRAY_ORIGINAL_HANDLER"'],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', _HANDLER: 'index.handler', ...extra } },
    );
    return output;
  };
  const entry = path.join(LAYER_DIR, 'otel-lambda-xray/handler.handler');
  assert.equal(handlerSeen({}), `${entry}|index.handler`);
  assert.equal(handlerSeen({ OTEL_SDK_DISABLED: 'false' }), `${entry}|index.handler`);
  assert.equal(handlerSeen({ OTEL_SDK_DISABLED: ' ' }), `${entry}|index.handler`);
  // As the layer's configuration reads it: trimmed, any case.
  for (const value of ['true', 'TRUE', 'True', ' true', 'true ', '\ttrue\n']) {
    assert.equal(handlerSeen({ OTEL_SDK_DISABLED: value }), 'index.handler|', value);
  }
});
