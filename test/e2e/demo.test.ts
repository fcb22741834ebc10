import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LAYER_DIR } from '../helpers/traced-function.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(repoRoot, 'build/src/cli/main.js');
const EXAMPLES = path.join(repoRoot, 'examples');

/** Runtime processes still running one of the example functions (Linux: read from /proc). */
function exampleRuntimes(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').some((v) => v.startsWith(`LAMBDA_TASK_ROOT=${EXAMPLES}`)))
        pids.push(Number(entry));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

function startDemo(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, 'demo', '--layer', LAYER_DIR, '--port', '0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

test('npm run demo -- --short: the example functions through the layer, their traces printed, nothing left running', async () => {
  assert.deepEqual(exampleRuntimes(), [], 'example runtimes were running before the demo');
  const demo = startDemo(['--short']);
  const code = await demo.exited;
  const output = demo.output();
  assert.equal(code, 0, output);
  assert.match(output, /• orders-api GET \/orders\/42: status 200/);
  assert.match(output, /• order-worker SQS batch of 1: status ok/);
  assert.match(
    output,
    /• orders-api GET \/orders\/7 \(inventory fails\): error: inventory service answered 503/,
  );
  // The trees: the API trace with its manual span, and the failing one with the fault and its cause.
  assert.match(output, /^trace 1-[0-9a-f]{8}-[0-9a-f]{24} {2}orders-api GET \/orders\/42 /m);
  assert.match(
    output,
    /^orders-api \[AWS::Lambda::Function\] .*$\n.*http GET https:\/\/\S+\/orders\/42 -> 200/m,
  );
  assert.match(output, /[├└]─ price-order {2}\d+\.\d ms/);
  assert.match(output, /^orders-api \[AWS::Lambda::Function\] .* FAULT$/m);
  assert.match(output, /cause Error: inventory service answered 503 for discontinued-grinder/);
  assert.match(output, /annotations faas_trigger=http http_request_method=GET http_route=\/orders\/\{id\}/);
  assert.match(output, /^Web view: http:\/\/127\.0\.0\.1:\d+\//m);
  assert.deepEqual(exampleRuntimes(), [], 'the demo left runtime processes behind');
});

test('the demo without --short serves until Ctrl-C, then stops everything and exits 0', async () => {
  const demo = startDemo([]);
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (demo.output().includes('Ctrl-C to stop.')) {
        clearInterval(check);
        resolve();
      }
    }, 50);
    demo.exited.then(() => {
      clearInterval(check);
      reject(new Error(`the demo exited early:\n${demo.output()}`));
    });
  });
  const web = /^Web view: (\S+)/m.exec(demo.output())?.[1];
  assert.ok(web);
  const traces = (await (await fetch(new URL('api/traces', web))).json()) as unknown[];
  assert.equal(traces.length, 3);
  assert.ok(exampleRuntimes().length > 0, 'the example functions were not running');
  demo.child.kill('SIGINT');
  assert.equal(await demo.exited, 0, demo.output());
  assert.deepEqual(exampleRuntimes(), [], 'Ctrl-C left runtime processes behind');
});
