/**
 * Keeps the side-by-side benchmark working: one short round through the real local Lambda. It asserts
 * only that the script ran and printed and wrote its table, never a timing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LAYER_DIR } from '../helpers/traced-function.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('npm run bench -- --short runs every available setup and writes the table and the chart', {
  timeout: 300_000,
}, async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'bench-short-'));
  try {
    const { code, stdout, stderr } = await run(
      process.execPath,
      [path.join(repoRoot, 'build/bench/run.js'), '--short', '--out', out],
      { ...process.env, LAYER_DIR },
    );
    assert.equal(code, 0, `bench exited with ${code}:\n${stderr}\n${stdout}`);
    assert.match(stdout, /^\| no tracing \| \d/m, stdout);
    for (const row of ['OTLP/HTTP, with a collector', 'OTLP/gRPC', 'default: daemon UDP']) {
      assert.match(
        stdout,
        new RegExp(`^\\| otel-lambda-xray \\(${row.replace('/', '\\/')}\\) \\| \\d`, 'm'),
        stdout,
      );
    }
    const markdown = readFileSync(path.join(out, 'results.md'), 'utf8');
    assert.match(markdown, /### No-op handler/);
    assert.match(markdown, /CPU\(s\)/);
    assert.ok(existsSync(path.join(out, 'results.svg')));
    assert.match(readFileSync(path.join(out, 'results.svg'), 'utf8'), /^<svg /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
