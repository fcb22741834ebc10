import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Where a function's packages can come from: its task root and the `NODE_PATH` folders (layers, runtime). */
export interface PackageSearch {
  readonly taskRoot: string;
  readonly nodePath: string | undefined;
}

/**
 * Whether any of `names` is installed where the function can load it from: a `node_modules` folder
 * at or above the task root, or a `NODE_PATH` folder (Lambda's lists layers and the runtime's own
 * AWS SDK). Plain existence checks, a few microseconds each: far cheaper than loading an
 * instrumentation for a library the function does not ship. A package's `exports` map does not
 * matter here, so ESM-only packages are found too.
 */
export function anyInstalled(names: readonly string[], search: PackageSearch): boolean {
  const folders = nodeModulesFolders(search);
  return names.some((name) => folders.some((folder) => isIn(folder, name)));
}

/** `name` is a package name, or a prefix ending in `*` such as `@aws-sdk/client-*`. */
function isIn(folder: string, name: string): boolean {
  if (!name.endsWith('*')) return existsSync(path.join(folder, name, 'package.json'));
  const prefix = path.join(folder, name.slice(0, -1));
  const parent = path.dirname(prefix);
  const start = path.basename(prefix);
  try {
    return readdirSync(parent).some((entry) => entry.startsWith(start));
  } catch {
    return false;
  }
}

function nodeModulesFolders({ taskRoot, nodePath }: PackageSearch): string[] {
  const folders: string[] = [];
  for (let dir = path.resolve(taskRoot); ; dir = path.dirname(dir)) {
    folders.push(path.join(dir, 'node_modules'));
    if (path.dirname(dir) === dir) break;
  }
  for (const entry of (nodePath ?? '').split(path.delimiter)) if (entry !== '') folders.push(entry);
  return folders;
}
