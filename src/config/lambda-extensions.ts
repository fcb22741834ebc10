import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Where Lambda runs extensions from: every attached layer's `extensions/`, merged into /opt. */
export const LAMBDA_EXTENSIONS_DIR = '/opt/extensions';

/** The name the ADOT and the OpenTelemetry collector layers give their extension. */
export const COLLECTOR_EXTENSION = 'collector';

/** The extensions installed beside the function, and the folder they were looked for in. */
export interface InstalledExtensions {
  readonly folder: string;
  readonly names: readonly string[];
}

/** `_HANDLER` as `otel-handler` sets it: `<layer folder>/otel-lambda-xray/handler.handler`. */
const LAYER_ENTRY = `${path.sep}otel-lambda-xray${path.sep}handler.handler`;

/**
 * The Lambda extensions installed: the files in the `extensions/` folder beside this layer. In
 * Lambda the layer is unpacked into /opt, so that is /opt/extensions; a local build of the layer
 * stands for /opt, so its own `extensions/` is read rather than this machine's /opt. A layer copied
 * into the function's code is not where Lambda looks for extensions: /opt/extensions then. Never
 * throws: a folder that is missing or unreadable holds none.
 */
export function installedExtensions(env: Readonly<Record<string, string | undefined>>): InstalledExtensions {
  const folder = extensionsFolder(env);
  let names: string[] = [];
  try {
    names = readdirSync(folder).sort();
  } catch {
    // No extensions there.
  }
  return { folder, names };
}

function extensionsFolder(env: Readonly<Record<string, string | undefined>>): string {
  const entry = env._HANDLER;
  if (entry === undefined || !entry.endsWith(LAYER_ENTRY)) return LAMBDA_EXTENSIONS_DIR;
  const layer = entry.slice(0, -LAYER_ENTRY.length) || path.sep;
  const taskRoot = env.LAMBDA_TASK_ROOT;
  if (taskRoot !== undefined && taskRoot !== '' && isWithin(layer, taskRoot)) return LAMBDA_EXTENSIONS_DIR;
  return path.join(layer, 'extensions');
}

function isWithin(folder: string, parent: string): boolean {
  const relative = path.relative(parent, folder);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
