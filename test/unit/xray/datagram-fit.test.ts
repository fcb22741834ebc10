import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { DAEMON_HEADER, fitToDatagram, MAX_DATAGRAM_BYTES } from '../../../src/xray/datagram-fit.js';
import { toSegmentDocuments } from '../../../src/xray/segment-document.js';
import type { XRaySegmentDocument } from '../../../src/xray/segment-types.js';
import { assertValidDocument, LAMBDA_CONTEXT, makeTracing } from './helpers.js';

const { record } = makeTracing();

function datagramBytes(payload: string): number {
  return Buffer.byteLength(DAEMON_HEADER + payload);
}

test('a document that fits is sent as it is', () => {
  const [document] = toSegmentDocuments(record('small', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT), {});
  const fit = fitToDatagram(document);
  assert.deepEqual(fit.payloads, [JSON.stringify(document)]);
  assert.equal(fit.truncatedValues, 0);
  assert.deepEqual(fit.dropped, []);
});

test('a span over 64 KB is shortened to fit one datagram and stays valid', () => {
  const span = record(
    'huge',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'request.body': 'x'.repeat(100_000),
        'db.statement.log': 'ü'.repeat(30_000),
        many: Array.from({ length: 2000 }, (_, index) => `item-${index}`),
        ...Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`attr.${index}`, 'v'.repeat(200)])),
      },
    },
    LAMBDA_CONTEXT,
    (live) => {
      for (let index = 0; index < 5; index += 1)
        live.recordException(new Error(`failure ${index}: ${'m'.repeat(5000)}`));
      live.setStatus({ code: SpanStatusCode.ERROR });
    },
  );
  const [document] = toSegmentDocuments(span, { indexedAttributes: ['request.body'] });
  assert.ok(
    Buffer.byteLength(JSON.stringify(document)) > 2 * MAX_DATAGRAM_BYTES,
    'the test span really is too large',
  );

  const fit = fitToDatagram(document);
  assert.equal(fit.payloads.length, 1);
  assert.deepEqual(fit.dropped, []);
  assert.ok(fit.truncatedValues > 0);
  const bytes = datagramBytes(fit.payloads[0]);
  assert.ok(bytes <= MAX_DATAGRAM_BYTES, `${bytes} bytes`);

  const sent = JSON.parse(fit.payloads[0]) as XRaySegmentDocument;
  assertValidDocument(sent);
  assert.equal(sent.id, document.id);
  assert.equal(sent.trace_id, document.trace_id);
  assert.equal(sent.name, document.name);
  assert.equal(sent.fault, true);
  const annotation = sent.annotations?.request_body;
  assert.ok(typeof annotation === 'string' && annotation.length <= 1000);
});

test('embedded subsegments of a too-large segment are split out as independent subsegments', () => {
  const parent: XRaySegmentDocument = {
    name: 'batch',
    id: 'aaaaaaaaaaaaaaaa',
    trace_id: '1-5f84c7a0-bb5ab5f0b0c1d2e3f4a5b6c7',
    start_time: 1_700_000_000.123456,
    end_time: 1_700_000_001.5,
    metadata: { default: { note: 'n'.repeat(3000) } },
    subsegments: Array.from({ length: 40 }, (_, index) => ({
      name: `item ${index}`,
      id: index.toString(16).padStart(16, '0'),
      trace_id: '1-5f84c7a0-bb5ab5f0b0c1d2e3f4a5b6c7',
      start_time: 1_700_000_000.2,
      end_time: 1_700_000_000.3,
      metadata: { default: { payload: 'p'.repeat(3000) } },
    })),
  };
  assert.ok(Buffer.byteLength(JSON.stringify(parent)) > MAX_DATAGRAM_BYTES);

  const fit = fitToDatagram(parent);
  assert.equal(fit.splitSubsegments, 40);
  assert.equal(fit.payloads.length, 41);
  assert.deepEqual(fit.dropped, []);
  const [first, ...pieces] = fit.payloads.map((payload) => JSON.parse(payload) as XRaySegmentDocument);
  assert.equal(first.id, parent.id);
  assert.equal(first.subsegments, undefined);
  for (const [index, piece] of pieces.entries()) {
    assert.equal(piece.type, 'subsegment');
    assert.equal(piece.parent_id, parent.id);
    assert.equal(piece.trace_id, parent.trace_id);
    assert.equal(piece.name, `item ${index}`);
  }
  for (const payload of fit.payloads) {
    assert.ok(datagramBytes(payload) <= MAX_DATAGRAM_BYTES);
    assertValidDocument(JSON.parse(payload));
  }
});

test('a document that cannot fit is dropped with a reason, never sent oversize', () => {
  const [document] = toSegmentDocuments(record('tiny budget', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT), {});
  const fit = fitToDatagram(document, 60);
  assert.deepEqual(fit.payloads, []);
  assert.equal(fit.dropped.length, 1);
  assert.match(fit.dropped[0], /exceeds/);
});

test('a document JSON cannot hold is dropped, not thrown', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const document: XRaySegmentDocument = {
    name: 'x',
    id: 'aaaaaaaaaaaaaaaa',
    trace_id: '1-5f84c7a0-bb5ab5f0b0c1d2e3f4a5b6c7',
    start_time: 1,
    metadata: { default: { cyclic } },
  };
  const fit = fitToDatagram(document);
  assert.deepEqual(fit.payloads, []);
  assert.match(fit.dropped[0], /serialised/);
});
