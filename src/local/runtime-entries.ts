/**
 * What the managed runtime's bootstrap does before the runtime client runs:
 * which node and entry to start, with which flags and environment. The
 * installs come from `.cache/runtimes/manifest.json`, written by
 * `node test/setup/runtimes.mjs`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Lambda Node.js runtime identifiers the local Lambda supports. */
export type RuntimeName = 'nodejs24.x' | 'nodejs22.x';

/** One installed runtime generation (an entry of the manifest). */
export interface RuntimeInstall {
  /** Absolute path of the generation's node binary. */
  node: string;
  nodeVersion: string;
  ricVersion: string;
  /** Absolute path of the module node starts (what /var/runtime/index.mjs is on Lambda). */
  entry: string;
  /** The generation's install dir, standing in for /var/runtime. */
  runtimeDir: string;
}

/** What a function instance needs to know to build its environment. */
export interface FunctionEnvInput {
  runtime: RuntimeName;
  install: RuntimeInstall;
  runtimeApi: string;
  taskRoot: string;
  handler: string;
  functionName: string;
  memoryMb: number;
  region: string;
  /** Where layers are extracted (Lambda: /opt). */
  optDir: string;
  execWrapper?: string;
}

const MANIFEST = join('.cache', 'runtimes', 'manifest.json');

/** Walks up from this file to the repo root holding the manifest (works from src/ and build/src/). */
export function findManifest(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, MANIFEST);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Reads the install of one runtime generation; throws telling how to install it when missing. */
export function resolveRuntime(runtime: RuntimeName, manifestPath = findManifest()): RuntimeInstall {
  const hint = 'run `node test/setup/runtimes.mjs` to install the local Lambda runtimes';
  if (!manifestPath) throw new Error(`no ${MANIFEST} found: ${hint}`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Partial<
    Record<RuntimeName, RuntimeInstall>
  >;
  const install = manifest[runtime];
  if (!install || !existsSync(install.node) || !existsSync(install.entry)) {
    throw new Error(`runtime ${runtime} is not installed (manifest ${manifestPath}): ${hint}`);
  }
  return install;
}

/** Node flags the managed runtime's bootstrap passes, sized from the memory setting like Lambda does. */
export function nodeArgs(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 32);
  return [
    '--expose-gc',
    '--max-http-header-size',
    '81920',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

/**
 * The environment Lambda gives the runtime process. Only PATH and HOME come
 * from the parent, so nothing like NODE_OPTIONS leaks from the test process.
 */
export function lambdaEnvironment(input: FunctionEnvInput): Record<string, string> {
  const { install, optDir } = input;
  const major = /^v(\d+)/.exec(install.nodeVersion)?.[1] ?? '';
  const env: Record<string, string> = {
    PATH: [
      dirname(install.node),
      process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      join(optDir, 'bin'),
    ].join(':'),
    HOME: process.env.HOME ?? '/tmp',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: input.taskRoot,
    LAMBDA_RUNTIME_DIR: install.runtimeDir,
    _HANDLER: input.handler,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    AWS_EXECUTION_ENV: `AWS_Lambda_${input.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${input.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    // The runtime's own node_modules (ric, node-gyp, the node package) are deliberately left
    // out: on Lambda /var/runtime/node_modules holds only the AWS SDK.
    NODE_PATH: [
      join(optDir, 'nodejs', `node${major}`, 'node_modules'),
      join(optDir, 'nodejs', 'node_modules'),
      install.runtimeDir,
      input.taskRoot,
    ].join(':'),
    AWS_ACCESS_KEY_ID: 'ASIALOCALLAMBDATEST0',
    AWS_SECRET_ACCESS_KEY: 'local/lambda/fake/secret/access/key/000000',
    AWS_SESSION_TOKEN: 'local-lambda-fake-session-token',
  };
  if (input.execWrapper) env.AWS_LAMBDA_EXEC_WRAPPER = input.execWrapper;
  return env;
}

function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}
