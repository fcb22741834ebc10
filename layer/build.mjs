// Builds the Lambda layer: dist/layer/ is the tree Lambda unpacks at /opt, dist/layer.zip the
// archive to publish. Run with `npm run build:layer` (or `node layer/build.mjs --out DIR`).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleOptions, libBundleOptions } from './bundle-options.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere than dist/ (two builds at once must not share a folder).
const outIndex = process.argv.indexOf('--out');
const dist = outIndex > 0 ? path.resolve(process.argv[outIndex + 1] ?? 'dist') : path.join(root, 'dist');
// `--no-minify` keeps the bundle's names and lines, for profiles (bench/warm-profile.ts); never shipped.
const minify = !process.argv.includes('--no-minify');
const layer = path.join(dist, 'layer');
const lib = path.join(layer, 'otel-lambda-xray');

rmSync(layer, { recursive: true, force: true });
rmSync(path.join(dist, 'layer.zip'), { force: true });
mkdirSync(lib, { recursive: true });

const result = await build({
  ...libBundleOptions({ minify }),
  outfile: path.join(lib, 'lib.cjs'),
  metafile: true,
});
writeFileSync(path.join(dist, 'layer-meta.json'), JSON.stringify(result.metafile));

copyFileSync(path.join(root, 'layer/handler.mjs'), path.join(lib, 'handler.mjs'));
copyFileSync(path.join(root, 'layer/otel-handler'), path.join(layer, 'otel-handler'));
chmodSync(path.join(layer, 'otel-handler'), 0o755);
copyFileSync(path.join(root, 'collector-config.yaml'), path.join(layer, 'collector-config.yaml'));

// The public helpers (forEachSqsRecord, ...) at /opt/nodejs/node_modules/otel-lambda-xray, so a
// CommonJS function can require them without installing the package. They use the layer's copy of
// @opentelemetry/api beside them, whose globals the tracer provider registered.
const helpers = path.join(layer, 'nodejs/node_modules/otel-lambda-xray');
await build({
  ...bundleOptions({ minify }),
  entryPoints: [path.join(root, 'src/index.ts')],
  outfile: path.join(helpers, 'index.js'),
  external: ['@opentelemetry/api'],
});
writeFileSync(
  path.join(helpers, 'package.json'),
  `${JSON.stringify({ name: 'otel-lambda-xray', version: JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version, main: 'index.js' }, null, 2)}\n`,
);

// The packages left out of the bundle, with their dependencies, beside it.
copyPackageTree('import-in-the-middle', path.join(lib, 'node_modules'));

// Lambda puts /opt/nodejs/node_modules on NODE_PATH: a function can `require('@opentelemetry/api')`
// for manual spans without shipping it. (A function that ships its own copy uses that one.)
const api = path.join(root, 'node_modules/@opentelemetry/api');
const apiTarget = path.join(layer, 'nodejs/node_modules/@opentelemetry/api');
for (const entry of ['package.json', 'LICENSE', 'build/src', 'build/esm']) {
  cpSync(path.join(api, entry), path.join(apiTarget, entry), {
    recursive: true,
    filter: (source) => !source.endsWith('.map') && !source.endsWith('.ts'),
  });
}

/** Copies an installed package and its production dependencies, recursively, into `target`. */
function copyPackageTree(name, target, seen = new Set()) {
  if (seen.has(name)) return;
  seen.add(name);
  const source = path.join(root, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8'));
  cpSync(source, path.join(target, name), {
    recursive: true,
    // Documentation, source maps and type declarations are not needed to run it.
    filter: (file) => !/(\.md|\.map|\.d\.m?ts)$/.test(file),
  });
  for (const dependency of Object.keys(manifest.dependencies ?? {}))
    copyPackageTree(dependency, target, seen);
}

try {
  execFileSync('zip', ['-q', '-r', '-X', path.join(dist, 'layer.zip'), '.'], {
    cwd: layer,
    stdio: 'inherit',
  });
} catch (error) {
  console.error(`layer/build.mjs: could not run zip (apt-get install zip): ${error.message}`);
  process.exit(1);
}

const kib = (file) => `${(statSync(file).size / 1024).toFixed(0)} KiB`;
console.log(
  `layer built: ${path.relative(root, layer)}/ (lib.cjs ${kib(path.join(lib, 'lib.cjs'))}), ${path.relative(root, path.join(dist, 'layer.zip'))} ${kib(path.join(dist, 'layer.zip'))}`,
);
