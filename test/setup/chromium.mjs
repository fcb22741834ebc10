#!/usr/bin/env node
// Installs Debian's `chromium` package when /usr/bin/chromium is missing, for the local view's
// browser test (playwright-core drives it; its own browser downloads are not used). Runs as root
// with no stdin in CI, so apt-get runs non-interactively. Node builtins only.
//
// Usage: node test/setup/chromium.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

if (existsSync(CHROMIUM)) {
  process.exit(0);
}
if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.error(
    `setup: ${CHROMIUM} is missing; install it as root: apt-get update && apt-get install -y chromium`,
  );
  process.exit(1);
}

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
  console.log(`setup: apt-get ${args.join(' ')}`);
  const result = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.status !== 0) {
    console.error(`setup: apt-get ${args[0]} failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}
if (!existsSync(CHROMIUM)) {
  console.error(`setup: apt-get installed chromium but ${CHROMIUM} is still missing`);
  process.exit(1);
}
console.log(`setup: ${CHROMIUM} installed`);
