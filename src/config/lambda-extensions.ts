import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Where Lambda puts the extensions of every layer attached (each layer's `extensions/`, merged). */
export const LAMBDA_EXTENSIONS_DIR = '/opt/extensions';

/** The name the ADOT and the OpenTelemetry collector layers give their extension. */
export const COLLECTOR_EXTENSION = 'collector';

/** `_HANDLER` as `otel-handler` sets it: `<layer folder>/otel-lambda-xray/handler.handler`. */
const LAYER_ENTRY = `${path.sep}otel-lambda-xray${path.sep}handler.handler`;

/**
 * The names of the Lambda extensions installed: the files in `/opt/extensions`, and in the
 * `extensions/` folder beside this layer when it runs from somewhere else (copied into the
 * function, or a local build). Never throws: a folder that is missing or unreadable has none.
 */
export function installedExtensions(env: Readonly<Record<string, string | undefined>>): string[] {
  const folders = new Set([LAMBDA_EXTENSIONS_DIR]);
  const entry = env._HANDLER;
  if (entry?.endsWith(LAYER_ENTRY)) {
    folders.add(path.join(entry.slice(0, -LAYER_ENTRY.length) || path.sep, 'extensions'));
  }
  const names = new Set<string>();
  for (const folder of folders) {
    try {
      for (const name of readdirSync(folder)) names.add(name);
    } catch {
      // No extensions there.
    }
  }
  return [...names].sort();
}
