/**
 * Where this layer's cold start goes. The runtime process cannot be profiled in place (the local
 * Lambda kills it with SIGKILL, so `--cpu-prof` never flushes), so this reproduces its start-up in a
 * small driver started like the runtime (same Node binary and flags, the Lambda environment) and
 * times each step the layer's entry takes: loading the bundle, reading the configuration, building the
 * provider, enabling the instrumentations, loading the user's handler, the first invocation (span and
 * export to a local OTLP/gRPC receiver) and a second one. The same driver without the layer is the
 * baseline. One more run under `--cpu-prof` attributes CPU time to the bundled packages.
 *
 * `--handler app` loads the realistic benchmark function instead of a no-op (its module load is where
 * the instrumentations patch pg, Sequelize, the AWS SDK and axios) and skips the invocations, which
 * would need its services.
 *
 * `--exporter xray` exports as a function without a collector does (the layer's default then): X-Ray
 * segment documents over UDP to a local socket standing in for the daemon.
 *
 * Usage: node build/bench/coldstart-profile.js [--runs 9 --runtime nodejs24.x --handler noop|app
 *   --exporter otlp|xray]
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { nodeArgs, type RuntimeName, resolveRuntime } from '../src/local/runtime-entries.js';
import { OtlpReceiver } from '../test/helpers/otlp-receiver.js';
import { median } from './lib/stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    runtime: { type: 'string', default: 'nodejs24.x' },
    handler: { type: 'string', default: 'noop' },
    exporter: { type: 'string', default: 'otlp' },
  },
});
if (values.exporter !== 'otlp' && values.exporter !== 'xray') {
  throw new Error(`--exporter takes otlp or xray, not ${values.exporter}`);
}
const runs = Number(values.runs);
const install = resolveRuntime(values.runtime as RuntimeName);
const work = path.join(repoRoot, '.tmp/bench/profile');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// The layer's own bundle options (layer/bundle-options.mjs, plugins included): minified for the
// timings, as shipped, and once more unminified for the CPU profile, so its samples can be traced
// back to the bundled packages. Only the entry differs: it exports the start-up steps one by one.
const { libBundleOptions } = (await import(
  pathToFileURL(path.join(repoRoot, 'layer/bundle-options.mjs')).href
)) as typeof import('../layer/bundle-options.mjs');
for (const minify of [true, false]) {
  await build({
    ...libBundleOptions({ minify }),
    entryPoints: [path.join(repoRoot, 'bench/lib/profile-entry.ts')],
    outfile: path.join(work, minify ? 'lib.cjs' : 'lib-named.cjs'),
    logLevel: 'error',
  });
}
// Outside the checkout, as the benchmark's functions are: below it, the repository's node_modules
// (pg, Sequelize, the AWS SDK) would turn on instrumentations a no-op function does not get.
const taskRoot = mkdtempSync(path.join(tmpdir(), 'coldstart-profile-task-'));
process.on('exit', () => rmSync(taskRoot, { recursive: true, force: true }));
const invoke = values.handler !== 'app';
if (invoke) {
  writeFileSync(path.join(taskRoot, 'index.js'), 'exports.handler = async () => ({ statusCode: 200 });\n');
  writeFileSync(path.join(taskRoot, 'package.json'), '{ "type": "commonjs" }\n');
} else {
  cpSync(path.join(repoRoot, 'test/fixtures/functions/bench-app'), taskRoot, { recursive: true });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(taskRoot, 'node_modules'));
}

// The driver: what the runtime client and the layer's entry do, with a clock between the steps.
const DRIVER = `
import { createRequire } from 'node:module';
const marks = { nodeReady: performance.now() };
const mark = (name) => { marks[name] = performance.now(); };
const context = (traceId) => ({ awsRequestId: crypto.randomUUID(), functionName: 'bench', xRayTraceId: traceId,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', getRemainingTimeInMillis: () => 3000 });
const header = () => 'Root=1-' + Math.floor(Date.now() / 1000).toString(16) + '-' + crypto.randomUUID().replaceAll('-', '').slice(0, 24) + ';Parent=53995c3f42cd8ad8;Sampled=1';
let handler;
if (process.env.PROFILE_LAYER === '1') {
  const lib = createRequire(import.meta.url)(process.env.PROFILE_LIB);
  mark('bundleLoaded');
  const { config } = lib.loadConfig(process.env);
  mark('configRead');
  lib.setLogger(lib.createPrefixedLogger(), config.logLevel);
  const { invocations, provider } = lib.startTracing(config);
  mark('providerBuilt');
  await lib.enableInstrumentations(config, provider, { taskRoot: process.env.LAMBDA_TASK_ROOT, nodePath: process.env.NODE_PATH });
  mark('instrumentationsEnabled');
  const user = await lib.loadUserHandler(process.env.LAMBDA_TASK_ROOT, 'index.handler');
  mark('handlerLoaded');
  handler = lib.wrapHandler(user, invocations);
  mark('handlerWrapped');
} else {
  handler = (await import(${JSON.stringify(path.join(taskRoot, 'index.js'))})).handler;
  mark('handlerLoaded');
}
for (const name of process.env.PROFILE_INVOKE === '1' ? ['firstInvocation', 'secondInvocation'] : []) {
  const traceHeader = header();
  process.env._X_AMZN_TRACE_ID = traceHeader;
  await handler({}, context(traceHeader));
  mark(name);
}
marks.builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
process.stdout.write(JSON.stringify(marks));
`;
writeFileSync(path.join(work, 'driver.mjs'), DRIVER);

const receiver = await OtlpReceiver.start();
const daemon = createSocket('udp4');
await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
const daemonAddress = `127.0.0.1:${daemon.address().port}`;
const env = (layer: boolean, lib = 'lib.cjs'): NodeJS.ProcessEnv => ({
  PROFILE_LIB: path.join(work, lib),
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LAMBDA_TASK_ROOT: taskRoot,
  _HANDLER: 'index.handler',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/bench',
  AWS_LAMBDA_LOG_STREAM_NAME: 'profile',
  AWS_REGION: 'us-east-1',
  // xray: the layer's default without a collector, to a socket where a stand-in daemon listens.
  ...(values.exporter === 'otlp'
    ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }
    : { AWS_XRAY_DAEMON_ADDRESS: daemonAddress }),
  PROFILE_LAYER: layer ? '1' : '0',
  PROFILE_INVOKE: invoke ? '1' : '0',
});

/** Step name to ms since process start, plus the built-in modules the driver had loaded. */
type Marks = Record<string, number> & { builtins?: string[] };
/** esbuild's module-wrapping helpers at the top of the bundle (__commonJS, __esm, __toESM, __copyProps...). */
const GLUE = '(bundle helpers)';
const runDriver = async (
  layer: boolean,
  extra: string[] = [],
  lib = 'lib.cjs',
): Promise<Marks & { spawnToExit: number }> => {
  const started = performance.now();
  // Asynchronous, so this process's gRPC receiver keeps serving the driver's exports.
  const child = await import('node:child_process').then(({ spawn }) =>
    spawn(install.node, [...nodeArgs(128), ...extra, path.join(work, 'driver.mjs')], {
      cwd: work,
      env: env(layer, lib),
    }),
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0)
    throw new Error(`driver failed (${code}): ${err.split('\n').slice(-12).join('\n').slice(-2000)}`);
  const marks = JSON.parse(out) as Marks;
  marks.spawnToExit = performance.now() - started;
  return marks as Marks & { spawnToExit: number };
};

const results: Record<'baseline' | 'layer', Marks[]> = { baseline: [], layer: [] };
try {
  await runDriver(false);
  await runDriver(true);
  for (let i = 0; i < runs; i++) {
    for (const layer of i % 2 ? [true, false] : [false, true])
      results[layer ? 'layer' : 'baseline'].push(await runDriver(layer));
  }
  // One profiled run of the layer.
  await runDriver(true, ['--cpu-prof', `--cpu-prof-dir=${work}`, '--cpu-prof-interval=100'], 'lib-named.cjs');
} finally {
  await receiver.close();
  daemon.close();
}

const steps = (list: Marks[], names: string[]) => {
  let previous = 'nodeReady';
  return names.map((name) => {
    const value = median(list.map((m) => (m[name] ?? Number.NaN) - (m[previous] ?? Number.NaN)));
    previous = name;
    return [name, value] as const;
  });
};
const invocationSteps = invoke ? ['firstInvocation', 'secondInvocation'] : [];
const layerSteps = [
  'bundleLoaded',
  'configRead',
  'providerBuilt',
  'instrumentationsEnabled',
  'handlerLoaded',
  'handlerWrapped',
  ...invocationSteps,
];
const baseSteps = ['handlerLoaded', ...invocationSteps];
console.log(
  `cold-start phases, ${values.handler} handler, ${values.runtime} (Node ${install.nodeVersion}), medians of ${runs} runs, ms`,
);
console.log(
  `node ready (process start to the driver's first line): baseline ${median(results.baseline.map((m) => m.nodeReady ?? 0)).toFixed(1)}, layer ${median(results.layer.map((m) => m.nodeReady ?? 0)).toFixed(1)}`,
);
console.log('| step | baseline | with the layer |');
console.log('| --- | ---: | ---: |');
const base = new Map(steps(results.baseline, baseSteps));
for (const [name, value] of steps(results.layer, layerSteps)) {
  const b = base.get(name);
  console.log(`| ${name} | ${b === undefined ? '' : b.toFixed(2)} | ${value.toFixed(2)} |`);
}
const total = (list: Marks[], last: string) => median(list.map((m) => (m[last] ?? 0) - (m.nodeReady ?? 0)));
const lastBase = invoke ? 'firstInvocation' : 'handlerLoaded';
const lastLayer = invoke ? 'firstInvocation' : 'handlerWrapped';
console.log(
  `| driver start to ${lastBase} | ${total(results.baseline, lastBase).toFixed(1)} | ${total(results.layer, lastLayer).toFixed(1)} |`,
);
console.log(
  `| spawn to exit (wall) | ${median(results.baseline.map((m) => m.spawnToExit ?? 0)).toFixed(1)} | ${median(results.layer.map((m) => m.spawnToExit ?? 0)).toFixed(1)} |`,
);

// Node built-in modules the layer loads that the bare function does not: each costs compile time.
const builtinsOf = (list: Marks[]) => new Set(list[0]?.builtins ?? []);
const baseBuiltins = builtinsOf(results.baseline);
const extraBuiltins = [...builtinsOf(results.layer)].filter((m) => !baseBuiltins.has(m));
console.log(
  `built-in modules loaded only with the layer (${extraBuiltins.length}): ${extraBuiltins.join(', ')}`,
);

// The exec wrapper: one /bin/sh, then exec (run by its absolute path, as Lambda runs it, it starts
// no other process).
const wrapperRuns: number[] = [];
for (let i = 0; i < 20; i++) {
  const started = performance.now();
  spawnSync(path.join(repoRoot, '.tmp/bench/layer/otel-handler'), ['/bin/true'], {
    env: { PATH: process.env.PATH, _HANDLER: 'index.handler' },
  });
  const wrapped = performance.now() - started;
  const direct = performance.now();
  spawnSync('/bin/true');
  wrapperRuns.push(wrapped - (performance.now() - direct));
}
console.log(`exec wrapper (otel-handler) overhead: ${median(wrapperRuns).toFixed(2)} ms (median of 20)`);

// CPU profile: self time per bundled package, found from esbuild's "// node_modules/..." markers.
const profileFile = readdirSync(work).find((f) => f.endsWith('.cpuprofile'));
if (profileFile) {
  const bundle = readFileSync(path.join(work, 'lib-named.cjs'), 'utf8').split('\n');
  const owner: string[] = [];
  let current = GLUE;
  for (const line of bundle) {
    const marker = /^\/\/ (.+\.(?:[cm]?js|ts|json))$/.exec(line);
    if (marker?.[1]) current = packageOf(marker[1]);
    owner.push(current);
  }
  interface Node {
    id: number;
    callFrame: { url: string; functionName: string; lineNumber: number };
    hitCount?: number;
  }
  const profile = JSON.parse(readFileSync(path.join(work, profileFile), 'utf8')) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const { url, lineNumber, functionName } = node.callFrame;
    const key = url.endsWith('/lib-named.cjs')
      ? `bundle: ${owner[lineNumber] ?? '?'}${owner[lineNumber] === GLUE ? ` ${functionName || '(top level)'}` : ''}`
      : url.startsWith('node:') || url === ''
        ? `node: ${functionName || url || '(native)'}`
        : `other: ${path.basename(url)}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const sorted = [...selfUs.entries()].sort((a, b) => b[1] - a[1]);
  const bundleTotal = sorted.filter(([k]) => k.startsWith('bundle:')).reduce((t, [, v]) => t + v, 0);
  console.log(
    `\nCPU self time in one profiled layer run (sampled every 100 µs); bundle total ${(bundleTotal / 1000).toFixed(1)} ms:`,
  );
  for (const [key, us] of sorted.slice(0, 25))
    console.log(`  ${(us / 1000).toFixed(2).padStart(7)} ms  ${key}`);
}

function packageOf(source: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (match?.[1]) return match[1];
  return source.replace(/^\.\.\/|^src\//, 'src/').replace(/\/[^/]+$/, '/');
}
