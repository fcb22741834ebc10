/**
 * The peers, installed by the benchmark itself into `.cache/peers/<name>/` from the pinned manifests
 * in `bench/peers/<name>/` (idempotent: a stamp records what was installed), then laid out as each
 * peer's Lambda layer lays itself out, so the exec wrappers run them the way Lambda would.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/** The peers the benchmark knows. */
export type PeerName = 'adot' | 'otel-lambda' | 'xray-sdk';
export const PEERS: readonly PeerName[] = ['adot', 'otel-lambda', 'xray-sdk'];

/** An installed peer. */
export interface InstalledPeer {
  name: PeerName;
  /** The folder playing Lambda's /opt for this peer (holds the exec wrapper), or the package root for the X-Ray SDK. */
  layerDir: string;
  /** The peer's node_modules. */
  nodeModules: string;
  /** Pinned versions of the top-level packages, for the report. */
  versions: Record<string, string>;
}

/** The size a user pays: the layer's zip and its unpacked tree (for the X-Ray SDK, its installed packages). */
export interface Footprint {
  zipBytes: number;
  unpackedBytes: number;
  /** What was measured, for the report. */
  what: string;
}

const MANIFESTS = (root: string) => path.join(root, 'bench/peers');
const CACHE = (root: string) => path.join(root, '.cache/peers');

/** True when the peer is installed with the current manifest (nothing to do). */
export function isInstalled(root: string, name: PeerName): boolean {
  const stamp = path.join(CACHE(root), name, '.installed');
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === manifestHash(root, name);
}

/** Installs the peer if needed and lays out its layer; returns where it is. */
export async function ensurePeer(
  root: string,
  name: PeerName,
  log: (line: string) => void,
): Promise<InstalledPeer> {
  const source = path.join(MANIFESTS(root), name);
  const target = path.join(CACHE(root), name);
  if (!isInstalled(root, name)) {
    log(`peers: installing ${name} into ${path.relative(root, target)}/ (npm, pinned versions)`);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    copyFileSync(path.join(source, 'package.json'), path.join(target, 'package.json'));
    const lock = path.join(source, 'package-lock.json');
    if (existsSync(lock)) copyFileSync(lock, path.join(target, 'package-lock.json'));
    execFileSync(
      'npm',
      [
        existsSync(lock) ? 'ci' : 'install',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
      ],
      {
        cwd: target,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await layOutLayer(name, source, target);
    writeFileSync(path.join(target, '.installed'), manifestHash(root, name));
  }
  const manifest = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return {
    name,
    layerDir: name === 'xray-sdk' ? target : path.join(target, 'layer'),
    nodeModules: path.join(target, 'node_modules'),
    versions: manifest.dependencies,
  };
}

/** Zip and unpacked size of what the user deploys for this peer. */
export function peerFootprint(peer: InstalledPeer): Footprint {
  const dir = peer.name === 'xray-sdk' ? peer.nodeModules : peer.layerDir;
  const what =
    peer.name === 'xray-sdk'
      ? 'installed packages (node_modules of aws-xray-sdk)'
      : peer.name === 'adot'
        ? 'layer rebuilt as ADOT builds it (bundled SDK + external import/require-in-the-middle)'
        : 'layer as the OpenTelemetry layer ships it (scripts + installed node_modules)';
  return { zipBytes: zipSize(dir), unpackedBytes: treeBytes(dir), what };
}

/** Sum of file sizes under a folder, following symlinks. */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    const stats = statSync(full);
    total += stats.isDirectory() ? treeBytes(full) : stats.size;
  }
  return total;
}

/** Size of `zip -r` of a folder (symlinks followed, as in a layer zip). */
export function zipSize(dir: string): number {
  const zip = path.join(path.dirname(dir), `.${path.basename(dir)}-footprint.zip`);
  rmSync(zip, { force: true });
  execFileSync('zip', ['-q', '-r', '-X', zip, '.'], { cwd: dir, stdio: 'ignore' });
  const size = statSync(zip).size;
  rmSync(zip, { force: true });
  return size;
}

function manifestHash(root: string, name: PeerName): string {
  const hash = createHash('sha256');
  const dir = path.join(MANIFESTS(root), name);
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(path.join(dir, file)));
  return hash.digest('hex');
}

/** Puts the peer's files where its Lambda layer puts them (`layer/` stands for /opt). */
async function layOutLayer(name: PeerName, source: string, target: string): Promise<void> {
  const layer = path.join(target, 'layer');
  if (name === 'xray-sdk') return; // Not a layer: the function ships it.
  mkdirSync(path.join(layer, 'nodejs'), { recursive: true });
  if (name === 'adot') {
    // ADOT's layer is one webpack bundle of the SDK (lambda-layer/packages/layer/webpack.config.js,
    // minified, @aws-sdk external) with import- and require-in-the-middle installed beside it
    // (install-externals.sh). esbuild stands in for webpack here.
    const { build } = await import('esbuild');
    await build({
      stdin: {
        contents: "require('@aws/aws-distro-opentelemetry-node-autoinstrumentation/register');",
        resolveDir: target,
        loader: 'js',
      },
      outfile: path.join(layer, 'wrapper.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      minify: true,
      external: ['import-in-the-middle', 'require-in-the-middle', '@aws-sdk/*'],
      logLevel: 'error',
    });
    for (const file of ['otel-instrument', 'wrapper.mjs'])
      copyFileSync(path.join(source, file), path.join(layer, file));
    const externals = path.join(layer, 'nodejs/node_modules');
    for (const pkg of ['import-in-the-middle', 'require-in-the-middle'])
      copyPackageTree(path.join(target, 'node_modules'), pkg, externals);
  } else {
    // The OpenTelemetry layer ships its scripts at /opt and `npm install --production` in /opt/nodejs.
    for (const file of ['otel-handler', 'init.mjs'])
      copyFileSync(path.join(source, file), path.join(layer, file));
    symlinkSync(path.join(target, 'node_modules'), path.join(layer, 'nodejs/node_modules'));
  }
  for (const script of ['otel-instrument', 'otel-handler']) {
    if (existsSync(path.join(layer, script))) chmodSync(path.join(layer, script), 0o755);
  }
}

/** Copies an installed package and its dependencies (flat, as npm hoists them) into `target`. */
function copyPackageTree(nodeModules: string, name: string, target: string, seen = new Set<string>()): void {
  if (seen.has(name)) return;
  seen.add(name);
  const source = path.join(nodeModules, name);
  cpSync(source, path.join(target, name), { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (existsSync(path.join(nodeModules, dependency)))
      copyPackageTree(nodeModules, dependency, target, seen);
  }
}
