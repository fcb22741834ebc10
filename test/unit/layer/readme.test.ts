import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_VARS } from '../../../src/config/env-vars.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

/** The variable names in the first column of the README's configuration table. */
function documentedVariables(): Map<string, string> {
  const section = readme.split('\n## Configuration')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \| (.*) \|$/gm)) {
    rows.set(match[1] ?? '', `${(match[2] ?? '').trim()} | ${match[3] ?? ''}`);
  }
  return rows;
}

test('the README configuration table lists every variable the code reads, with its default', () => {
  const documented = documentedVariables();
  assert.ok(documented.size > 0, 'no configuration table found');
  const plain = (text: string) => text.replaceAll('`', '');
  for (const variable of ENV_VARS) {
    assert.ok(documented.has(variable.name), `${variable.name} is missing from the README`);
    assert.equal(
      plain(documented.get(variable.name) ?? ''),
      plain(`${variable.default} | ${variable.description}`),
      `${variable.name}: the README row (default | meaning) differs from src/config/env-vars.ts`,
    );
  }
  const known = new Set(ENV_VARS.map((v) => v.name));
  for (const name of documented.keys())
    assert.ok(known.has(name), `README documents ${name}, which the code does not read`);
});

test('the README first screen says how to attach the layer and how to run the tests', () => {
  const firstScreen = readme.split('\n').slice(0, 60).join('\n');
  assert.match(firstScreen, /AWS_LAMBDA_EXEC_WRAPPER.*\/opt\/otel-handler/);
  assert.match(firstScreen, /OPENTELEMETRY_COLLECTOR_CONFIG_URI/);
  assert.match(readme, /^npm test/m);
});
