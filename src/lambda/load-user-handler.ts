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
 * Loads the handler named `module.export` (or `dir/module.nested.export`) from the task root the
 * way the Lambda runtime client does: same file lookup order, `import()` for every module (CommonJS
 * and ESM alike), then a `require` resolution for handlers that live in `node_modules`.
 * Errors from the user's module (syntax, missing import) propagate unchanged for the runtime to
 * classify, exactly as when it loads the module itself. `location`, when the caller has already
 * looked the handler up, saves doing it again.
 */
export async function loadUserHandler(
  taskRoot: string,
  handlerString: string,
  location: HandlerLocation = locateHandler(taskRoot, handlerString),
): Promise<LambdaHandler> {
  const module =
    location.file !== undefined ? await import(location.file) : requireFromTaskRoot(taskRoot, location);

  let handler = findIn(location.handlerName, module);
  if (handler === undefined && typeof module === 'object' && module !== null && 'default' in module) {
    handler = findIn(location.handlerName, (module as { default: unknown }).default);
  }
  if (handler === undefined || handler === null) {
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
  if (file.endsWith('.mjs')) return true;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
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
}

function requireFromTaskRoot(taskRoot: string, location: HandlerLocation): unknown {
  const require = createRequire(path.join(taskRoot, 'noop.js'));
  const resolved = require.resolve(location.moduleName, {
    paths: [taskRoot, path.join(taskRoot, location.moduleRoot)],
  });
  return require(resolved);
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
