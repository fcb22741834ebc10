import { readdirSync, readFileSync } from 'node:fs';

// Compiled to build/test/unit/triggers/: the fixtures stay in the source tree.
const DIR = new URL('../../../../test/fixtures/events/', import.meta.url);

/** The names of every event fixture, `.json` included. */
export function fixtureNames(): string[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** A fresh parse of one fixture, safe to mutate. */
export function loadEvent(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as Record<string, unknown>;
}
