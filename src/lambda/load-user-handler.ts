import { existsSync } from 'node:fs';
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
 * classify, exactly as when it loads the module itself.
 */
export async function loadUserHandler(taskRoot: string, handlerString: string): Promise<LambdaHandler> {
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
  const module = await importModule(taskRoot, moduleRoot, moduleName);

  let handler = findIn(handlerName, module);
  if (handler === undefined && typeof module === 'object' && module !== null && 'default' in module) {
    handler = findIn(handlerName, (module as { default: unknown }).default);
  }
  if (handler === undefined || handler === null) {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${handlerString} is not a function`);
  }
  return handler as LambdaHandler;
}

async function importModule(taskRoot: string, moduleRoot: string, moduleName: string): Promise<unknown> {
  const withoutExtension = path.resolve(taskRoot, moduleRoot, moduleName);
  for (const extension of EXTENSIONS) {
    const file = `${withoutExtension}${extension}`;
    if (existsSync(file)) return import(file);
  }
  const require = createRequire(path.join(taskRoot, 'noop.js'));
  const resolved = require.resolve(moduleName, { paths: [taskRoot, path.join(taskRoot, moduleRoot)] });
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
