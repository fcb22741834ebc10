// The esbuild options of the layer's bundles, shared by layer/build.mjs and the cold-start profile
// (bench/coldstart-profile.ts), so that the profile measures the bundle as it is shipped.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Resolves the `debug` package to layer/debug-stub.cjs (see that file for why). */
const debugStub = {
  name: 'debug-stub',
  setup(builder) {
    builder.onResolve({ filter: /^debug$/ }, () => ({ path: path.join(root, 'layer/debug-stub.cjs') }));
  },
};

/**
 * The contrib instrumentations ship CommonJS only, and `require('@opentelemetry/semantic-conventions')`
 * pulls all of its CommonJS index into the bundle (80 KB minified, thousands of constants defined at
 * start-up) where they read a dozen constants each. Each such file gets instead a module that
 * re-exports just the names it reads from the package's ES build, which esbuild then trims. Only
 * files where the binding is used as `binding.NAME` and nothing else are rewritten; a name the
 * package lacks fails the build.
 */
const SEMCONV_REQUIRE = /const (\w+) = require\("@opentelemetry\/semantic-conventions"\);/;
const semconvSubset = {
  name: 'semconv-subset',
  setup(builder) {
    const contribFile =
      /[\\/]node_modules[\\/]@opentelemetry[\\/]instrumentation-[^\\/]+[\\/]build[\\/]src[\\/].*\.js$/;
    builder.onLoad({ filter: contribFile }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const declaration = SEMCONV_REQUIRE.exec(source);
      if (!declaration) return undefined;
      const binding = declaration[1];
      const names = new Set();
      for (const use of source.matchAll(new RegExp(`\\b${binding}\\b(?:\\.(\\w+))?`, 'g'))) {
        if (use.index === declaration.index + 'const '.length) continue;
        if (!use[1]) return undefined; // used some other way: keep the whole package
        names.add(use[1]);
      }
      const subset = `semconv-subset:${[...names].sort().join(',')}`;
      return {
        contents: source.replace(declaration[0], `const ${binding} = require(${JSON.stringify(subset)});`),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
    builder.onResolve({ filter: /^semconv-subset:/ }, (args) => ({
      // One module per importing package folder: it may carry its own semantic-conventions copy.
      path: `${args.resolveDir}|${args.path.slice('semconv-subset:'.length)}`,
      namespace: 'semconv-subset',
      pluginData: { resolveDir: args.resolveDir },
    }));
    builder.onLoad({ filter: /.*/, namespace: 'semconv-subset' }, (args) => ({
      contents: `export { ${args.path.split('|')[1]} } from '@opentelemetry/semantic-conventions';`,
      loader: 'js',
      resolveDir: args.pluginData.resolveDir,
    }));
  },
};

/**
 * The CommonJS files of the bundle (the contrib instrumentations) `require()` the OpenTelemetry
 * packages, of which the bundle holds the ES builds. For each such call esbuild makes a new
 * CommonJS view of the ES module, copying every export as a getter (`__toCommonJS`): twenty-odd
 * copies of the API's exports, nine of core's, at every cold start. Node's own `require` returns
 * one cached object, and so does the bundle with this plugin: every `require()` of a package goes
 * through one small CommonJS module per resolved file, which esbuild evaluates once.
 */
const requireOnce = {
  name: 'require-once',
  setup(builder) {
    builder.onResolve({ filter: /^@opentelemetry\// }, async (args) => {
      if (args.kind !== 'require-call' || args.pluginData?.requireOnce) return undefined;
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { requireOnce: true },
      });
      if (resolved.errors.length > 0 || resolved.external) return undefined;
      // Named relative to the checkout, as esbuild names the bundle's other modules.
      return { path: path.relative(root, resolved.path), namespace: 'require-once' };
    });
    builder.onLoad({ filter: /.*/, namespace: 'require-once' }, (args) => {
      const file = path.join(root, args.path);
      return {
        contents: `module.exports = require(${JSON.stringify(file)});`,
        loader: 'js',
        resolveDir: path.dirname(file),
      };
    });
  },
};

/** What every bundle of the layer shares. */
const sharedOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // nodejs22.x is the oldest runtime the layer supports.
  target: 'node22',
  // The packages' ESM builds let esbuild drop what the layer never uses (most of the semantic
  // conventions, for one): 900 KB of CommonJS becomes under 100 KB, and the bundle loads in a
  // quarter of the time.
  mainFields: ['module', 'main'],
  // The legal comments stay in a separate file to keep the bundles small.
  legalComments: 'external',
  logLevel: 'warning',
};

/**
 * `@opentelemetry/instrumentation` loads `import-in-the-middle` for every function; in the bundle it
 * gets the layer's stand-in, which loads the package only for an ESM handler
 * (`src/instrumentations/deferred-import-hooks.ts`).
 */
const deferredImportHooks = {
  name: 'deferred-import-hooks',
  setup(builder) {
    builder.onResolve({ filter: /^import-in-the-middle$/ }, (args) =>
      /[\\/]@opentelemetry[\\/]instrumentation[\\/]/.test(args.importer)
        ? { path: path.join(root, 'src/instrumentations/deferred-import-hooks.ts') }
        : undefined,
    );
  },
};

/**
 * The options of every bundle the layer ships (`minify: false` only for profiles); `lib` adds what
 * the entry bundle, `otel-lambda-xray/lib.cjs`, needs on top.
 */
export function bundleOptions({ minify = true } = {}) {
  return { ...sharedOptions, minify };
}

/** The options of the entry bundle: the shared ones, its plugins, and what stays outside it. */
export function libBundleOptions({ minify = true } = {}) {
  return {
    ...bundleOptions({ minify }),
    entryPoints: [path.join(root, 'src/bootstrap/entry.ts')],
    // import-in-the-middle must stay a real package: bundled, its ESM wrapping silently fails.
    external: ['import-in-the-middle', 'import-in-the-middle/*'],
    plugins: [debugStub, semconvSubset, deferredImportHooks, requireOnce],
  };
}
