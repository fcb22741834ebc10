import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { AttributeReader } from '../../../src/xray/attribute-reader.js';
import { chooseSegmentName, MAX_NAME_LENGTH, sanitizeSegmentName } from '../../../src/xray/names.js';
import { fixturePath } from './helpers.js';

const schema = JSON.parse(readFileSync(fixturePath('segment-document-schema.json'), 'utf8'));
/** The schema's own name pattern, compiled the way Ajv compiles it (`u` flag). */
const schemaName = new RegExp(schema.properties.name.pattern, 'u');

test('every BMP character kept by the sanitiser is one the schema allows', () => {
  const rejected: string[] = [];
  for (let code = 0; code <= 0xffff; code += 1) {
    if (code >= 0xd800 && code <= 0xdfff) continue; // lone surrogates are not characters
    const name = sanitizeSegmentName(`a${String.fromCharCode(code)}`);
    if (!schemaName.test(name)) rejected.push(code.toString(16));
  }
  assert.deepEqual(rejected, [], `kept but invalid: ${rejected.slice(0, 20).join(' ')}`);
});

test('each ASCII character is kept or dropped as the Unicode classes say', () => {
  const allowed = /[\p{L}\p{N}\p{Z}_.:/%&#=+\-@]/u;
  for (let code = 0; code < 0x80; code += 1) {
    const char = String.fromCharCode(code);
    // Alone (the plain-ASCII shortcut, when kept) and beside a non-ASCII letter (the full rules).
    for (const name of [`a${char}b`, `é${char}b`]) {
      const expected = allowed.test(char) ? name : name.replace(char, '');
      assert.equal(sanitizeSegmentName(name), expected, `U+${code.toString(16)} in ${JSON.stringify(name)}`);
    }
  }
});

test('letters, numbers, whitespace and the documented symbols are kept', () => {
  assert.equal(
    sanitizeSegmentName('Zahlung prüfen 日本 Ωmega ٣ _.:/%&#=+-@'),
    'Zahlung prüfen 日本 Ωmega ٣ _.:/%&#=+-@',
  );
});

test('the backslash, control characters and astral characters go', () => {
  assert.equal(sanitizeSegmentName('a\\b\tc\nd😀e𝐀f'), 'abcdef');
});

test('names are cut to 200 code points, and an empty result is "span"', () => {
  assert.equal(sanitizeSegmentName('x'.repeat(500)).length, MAX_NAME_LENGTH);
  assert.equal(sanitizeSegmentName(''), 'span');
  assert.equal(sanitizeSegmentName('!!!'), 'span');
  assert.ok(schemaName.test(sanitizeSegmentName('ü'.repeat(201))));
});

test('a name chosen again (remembered once sanitised) is the same as sanitising it afresh', () => {
  const nameOf = (spanName: string) =>
    chooseSegmentName({
      spanName,
      kind: SpanKind.INTERNAL,
      isSegment: false,
      isAwsSdk: false,
      attributes: new AttributeReader({}),
      resource: new AttributeReader({}),
    });
  const names = ['orders-api', 'GET /orders/{id}', 'a\\b<c>', '', 'ü'.repeat(201), 'x'.repeat(500)];
  // Enough distinct names to make the memory forget them in between.
  const many = Array.from({ length: 600 }, (_, index) => `name ${index} \u0000`);
  for (let round = 0; round < 3; round += 1) {
    for (const name of [...names, ...many]) assert.equal(nameOf(name), sanitizeSegmentName(name), name);
  }
});
