import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assertValidDocument, fixturePath } from './helpers.js';

const schema = JSON.parse(readFileSync(fixturePath('segment-document-schema.json'), 'utf8'));

/** Every schema object of `node` (not the name maps under `properties`/`definitions`). */
function* schemaObjects(node: unknown): Generator<Record<string, unknown>> {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const object = node as Record<string, unknown>;
  yield object;
  for (const [key, value] of Object.entries(object)) {
    if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      for (const child of Object.values(value as Record<string, unknown>)) yield* schemaObjects(child);
    } else if (key === 'items' || key === 'additionalProperties' || key === 'not') {
      yield* schemaObjects(value);
    } else if (key === 'oneOf' || key === 'anyOf' || key === 'allOf') {
      for (const child of value as unknown[]) yield* schemaObjects(child);
    }
  }
}

test('the draft-04 schema uses no keyword whose meaning changed after draft-04', () => {
  // This is what makes validating it with Ajv's draft-07 engine faithful (see helpers.ts).
  for (const object of schemaObjects(schema)) {
    assert.ok(!('id' in object), 'draft-04 `id` (a base URI) would read differently');
    assert.notEqual(typeof object.exclusiveMinimum, 'boolean');
    assert.notEqual(typeof object.exclusiveMaximum, 'boolean');
    assert.ok(!('dependencies' in object) && !('format' in object));
  }
});

test('the validator accepts the reference documents and rejects broken ones', () => {
  const examples = JSON.parse(readFileSync(fixturePath('segment-document-examples.json'), 'utf8'));
  for (const key of ['minimal_segment', 'in_progress_segment', 'independent_subsegment_http']) {
    assertValidDocument(examples[key]);
  }
  const minimal = examples.minimal_segment;
  assert.throws(() => assertValidDocument({ ...minimal, id: 'short' }));
  assert.throws(() => assertValidDocument({ ...minimal, name: 'a\\b' }));
  assert.throws(() => assertValidDocument({ ...minimal, annotations: { 'has.dot': 1 } }));
  assert.throws(() => assertValidDocument({ ...minimal, trace_id: undefined }));
});
