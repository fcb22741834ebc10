import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LambdaHandler } from './wrap-handler.js';

/**
 * An error shaped like the runtime's own, so a function whose handler cannot be loaded fails with
 * the same error type and message with the layer as without it.
 */
export class HandlerLoadError extends Error {
  constructor(name: 'Runtime.HandlerNotFound' | 'Runtime.MalformedHandlerName', message: string) {
    super(message);
    this.name = name;
  }
}

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const EXTENSIONS = ['', '.js', '.mjs', '.cjs'];

/**
 * How the runtime client of this runtime loads a handler. nodejs24.x's (aws-lambda-ric 4):
 * `import()` for every module, CommonJS and ESM alike, and the export looked up through objects,
 * then through the module's `default`. Older ones' (aws-lambda-ric 3, nodejs22.x): `require` for
 * CommonJS (so a folder with an `index.js` is a module), `import()` for ESM, and the export looked
 * up through anything (a class's static method), with no `default`.
 */
export type LoaderRules = 'import' | 'require-first';

/** The rules of the runtime this process runs in: from `AWS_EXECUTION_ENV`, else Node's version. */
export function loaderRulesOf(env: NodeJS.ProcessEnv = process.env): LoaderRules {
  const runtime = /^AWS_Lambda_nodejs(\d+)/.exec(env.AWS_EXECUTION_ENV ?? '');
  const major = Number(runtime?.[1] ?? process.versions.node.split('.')[0]);
  return major >= 24 ? 'import' : 'require-first';
}

/**
 * Loads the handler named `module.export` (or `dir/module.nested.export`) from the task root the
 * way this runtime's client does (see {@link LoaderRules}): same file lookup order, same loader,
 * then a `require` resolution for handlers that live in `node_modules`. Errors from the user's
 * module (syntax, missing import) propagate unchanged for the runtime to classify, exactly as when
 * it loads the module itself. `location`, when the caller has already looked the handler up, saves
 * doing it again.
 */
export async function loadUserHandler(
  taskRoot: string,
  handlerString: string,
  location: HandlerLocation = locateHandler(taskRoot, handlerString),
  rules: LoaderRules = loaderRulesOf(),
): Promise<LambdaHandler> {
  let handler: unknown;
  if (rules === 'require-first') {
    handler = resolveThroughAnything(location.handlerName, await requireFirst(taskRoot, location));
  } else {
    const module =
      location.file !== undefined ? await import(location.file) : requireFromTaskRoot(taskRoot, location);
    handler = findIn(location.handlerName, module);
    if (!handler && typeof module === 'object' && module !== null && 'default' in module) {
      handler = findIn(location.handlerName, (module as { default: unknown }).default);
    }
  }
  // Falsy, as the runtime clients test it (`exports.handler = 0` is "not exported" too).
  if (!handler) {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${handlerString} is not a function`);
  }
  return handler as LambdaHandler;
}

/** Where a handler string points, before anything is loaded. */
export interface HandlerLocation {
  readonly moduleRoot: string;
  readonly moduleName: string;
  readonly handlerName: string;
  /** The module file in the task root, or undefined when it must be resolved like a package. */
  readonly file: string | undefined;
}

/** Parses `dir/module.export` and finds the module file with the runtime client's lookup order. */
export function locateHandler(taskRoot: string, handlerString: string): HandlerLocation {
  if (handlerString.includes('..')) {
    throw new HandlerLoadError(
      'Runtime.MalformedHandlerName',
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(handlerString);
  const match = FUNCTION_EXPR.exec(base);
  if (!match) throw new HandlerLoadError('Runtime.MalformedHandlerName', 'Bad handler');
  const [, moduleName = '', handlerName = ''] = match;
  const moduleRoot = handlerString.slice(0, handlerString.length - base.length).replace(/\/$/, '');
  const withoutExtension = path.resolve(taskRoot, moduleRoot, moduleName);
  const file = EXTENSIONS.map((extension) => `${withoutExtension}${extension}`).find((f) => existsSync(f));
  return { moduleRoot, moduleName, handlerName, file };
}

/**
 * Whether the handler module is ECMAScript: `.mjs`, or `.js` under a `"type": "module"`
 * package.json. Decides whether the ESM loader hook is worth its start-up cost.
 */
export function isEsmHandler(location: HandlerLocation): boolean {
  const file = location.file;
  if (file === undefined || file.endsWith('.cjs')) return false;
  return file.endsWith('.mjs') || isEsmFolder(path.dirname(file));
}

/**
 * A `require` anchored where the runtime client's own is: its entry module (`/var/runtime/index.mjs`
 * in Lambda), so a module that cannot be found names the same require stack with the layer as
 * without it.
 */
function runtimeRequire(taskRoot: string): NodeJS.Require {
  const entry = process.argv[1];
  return createRequire(
    entry !== undefined && path.isAbsolute(entry) ? entry : path.join(taskRoot, 'noop.js'),
  );
}

function requireFromTaskRoot(taskRoot: string, location: HandlerLocation): unknown {
  const require = runtimeRequire(taskRoot);
  const resolved = require.resolve(location.moduleName, {
    paths: [taskRoot, path.join(taskRoot, location.moduleRoot)],
  });
  return require(resolved);
}

/**
 * The module as aws-lambda-ric 3 loads it: the name as given (a file, or a folder with an index),
 * then `.js` by `require` unless a `"type": "module"` package.json makes it ESM, then `.js` (ESM) or
 * `.mjs` by `import()`, `.cjs` by `require`, and last a `require` resolution (`node_modules`).
 */
async function requireFirst(taskRoot: string, location: HandlerLocation): Promise<unknown> {
  const require = runtimeRequire(taskRoot);
  const base = path.resolve(taskRoot, location.moduleRoot, location.moduleName);
  if (existsSync(base)) return require(base);
  if (existsSync(`${base}.js`)) {
    return isEsmFolder(path.dirname(base)) ? import(`${base}.js`) : require(`${base}.js`);
  }
  if (existsSync(`${base}.mjs`)) return import(`${base}.mjs`);
  if (existsSync(`${base}.cjs`)) return require(`${base}.cjs`);
  return requireFromTaskRoot(taskRoot, location);
}

/** Whether the nearest package.json above `folder` (not past a node_modules) says `"type": "module"`. */
function isEsmFolder(folder: string): boolean {
  for (let dir = folder; !dir.endsWith('/node_modules'); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
  return false;
}

/** `a.b.c` looked up as aws-lambda-ric 3 does: through any value (a function's own properties too). */
function resolveThroughAnything(handlerName: string, module: unknown): unknown {
  return handlerName
    .split('.')
    .reduce<unknown>((nested, key) => (nested ? (nested as Record<string, unknown>)[key] : nested), module);
}

function findIn(handlerName: string, module: unknown): unknown {
  return handlerName
    .split('.')
    .reduce<unknown>(
      (nested, key) =>
        nested !== null && typeof nested === 'object' ? (nested as Record<string, unknown>)[key] : undefined,
      module,
    );
}
