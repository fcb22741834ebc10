import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import {
  contextFromCarrier,
  linksFromCarriers,
  type MessageCarrierLike,
} from '../../../src/propagation/message-context.js';
import { messageLinks } from '../../../src/propagation/message-links.js';
import { passedOnFieldsOf, xrayHeaderOf } from '../../../src/propagation/xray-header.js';
import { registerLayerGlobals, SENDER, SENDER_TRACEPARENT, SENDER_XRAY } from './setup.js';

const other = '00-11111111222222223333333344444444-5555555566666666-01';

describe('message contexts and links', () => {
  before(registerLayerGlobals);

  test('xrayHeaderOf writes the AWSTraceHeader format', () => {
    assert.equal(xrayHeaderOf(SENDER), SENDER_XRAY);
    assert.equal(xrayHeaderOf({ ...SENDER, traceFlags: 0 }), SENDER_XRAY.replace('Sampled=1', 'Sampled=0'));
    assert.equal(xrayHeaderOf({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 }), undefined);
  });

  test("passedOnFieldsOf keeps the header's fields other than Root, Parent and Sampled, as written", () => {
    assert.equal(passedOnFieldsOf(SENDER_XRAY), undefined);
    assert.equal(passedOnFieldsOf(`${SENDER_XRAY};Lineage=a87bd80c:1`), 'Lineage=a87bd80c:1');
    assert.equal(
      passedOnFieldsOf(
        'root=1-5759e988-bd862e3fe1be46a994272793; Lineage=a87bd80c:2 ;parent=53995c3f42cd8ad8;sampled=1;Foo=bar;',
      ),
      'Lineage=a87bd80c:2;Foo=bar',
    );
    assert.equal(passedOnFieldsOf(''), undefined);
  });

  test("passedOnFieldsOf reads Lambda's usual header (trace fields, then Lineage), and its variants", () => {
    for (const lineage of ['Lineage=a87bd80c:1', 'Lineage=10:a87bd80c:3', 'Lineage=']) {
      const header = `${SENDER_XRAY};${lineage}`;
      assert.equal(passedOnFieldsOf(header), lineage);
      // A trailing ';' (an empty field) changes nothing.
      assert.equal(passedOnFieldsOf(`${header};`), passedOnFieldsOf(header));
    }
    // Trace fields after the Lineage are skipped; a value with a space is kept as written.
    assert.equal(passedOnFieldsOf(`${SENDER_XRAY};Lineage=a87bd80c:1;Root=x`), 'Lineage=a87bd80c:1');
    assert.equal(passedOnFieldsOf(`${SENDER_XRAY};Lineage=a b`), 'Lineage=a b');
  });

  test('the X-Ray header wins over message attributes; attributes are read without it', () => {
    const producerOf = (carrier: MessageCarrierLike) => trace.getSpanContext(contextFromCarrier(carrier));
    const fromXray = producerOf({ xrayHeader: SENDER_XRAY, headers: { traceparent: other } });
    assert.equal(fromXray?.spanId, SENDER.spanId);
    assert.equal(fromXray?.isRemote, true);
    const fromW3c = producerOf({ headers: { traceparent: SENDER_TRACEPARENT } });
    assert.equal(fromW3c?.traceId, SENDER.traceId);
    // A malformed X-Ray header falls back to the attributes.
    const fallback = producerOf({ xrayHeader: 'Root=garbage', headers: { traceparent: other } });
    assert.equal(fallback?.spanId, '5555555566666666');
    assert.equal(producerOf({ headers: {} }), undefined);
  });

  test('links: one per distinct producer span, in order, capped', () => {
    const carriers: MessageCarrierLike[] = [
      { xrayHeader: SENDER_XRAY, headers: {} },
      { headers: { traceparent: SENDER_TRACEPARENT } }, // same span through the other carrier
      { headers: {} },
      { headers: { traceparent: other } },
    ];
    const links = linksFromCarriers(carriers, 10);
    assert.deepEqual(
      links.map((l) => l.context.spanId),
      [SENDER.spanId, '5555555566666666'],
    );
    assert.ok(links.every((l) => isSpanContextValid(l.context)));
    assert.equal(linksFromCarriers(carriers, 1).length, 1);
  });

  test('messageLinks reads SQS and SNS events, and nothing else', () => {
    const sqsEvent = {
      Records: [
        {
          eventSource: 'aws:sqs',
          attributes: { AWSTraceHeader: SENDER_XRAY },
          messageAttributes: {},
        },
        {
          eventSource: 'aws:sqs',
          attributes: {},
          messageAttributes: { traceparent: { stringValue: other, dataType: 'String' } },
        },
      ],
    };
    assert.deepEqual(
      messageLinks(sqsEvent, 'sqs').map((l) => l.context.spanId),
      [SENDER.spanId, '5555555566666666'],
    );
    const snsEvent = {
      Records: [
        {
          EventSource: 'aws:sns',
          Sns: { MessageAttributes: { traceparent: { Type: 'String', Value: SENDER_TRACEPARENT } } },
        },
      ],
    };
    assert.deepEqual(
      messageLinks(snsEvent, 'sns').map((l) => l.context.spanId),
      [SENDER.spanId],
    );
    assert.deepEqual(messageLinks(sqsEvent, 'direct'), []);
    assert.deepEqual(messageLinks(null, 'sqs'), []);
  });

  test('an AWSTraceHeader that names no valid context does not hide the traceparent beside it', () => {
    const root = 'Root=1-5759e988-bd862e3fe1be46a994272793';
    const Records = [`${root};Sampled=1`, `${root};Parent=53995c3f42cd8ad8;Sampled=?`].map((header) => ({
      eventSource: 'aws:sqs',
      attributes: { AWSTraceHeader: header },
      messageAttributes: { traceparent: { stringValue: other, dataType: 'String' } },
    }));
    Records.push({
      eventSource: 'aws:sqs',
      attributes: { AWSTraceHeader: SENDER_XRAY },
      messageAttributes: { traceparent: { stringValue: other, dataType: 'String' } },
    });
    // The first two fall back to traceparent (one producer, linked once); the third's header wins.
    assert.deepEqual(
      messageLinks({ Records }, 'sqs').map((l) => l.context.spanId),
      ['5555555566666666', SENDER.spanId],
    );
  });

  test('a 10,000-message batch gives at most 128 links', () => {
    const Records = Array.from({ length: 10_000 }, (_, i) => ({
      eventSource: 'aws:sqs',
      attributes: {
        AWSTraceHeader: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${i.toString(16).padStart(16, '0')};Sampled=1`,
      },
    }));
    Records[0] = { eventSource: 'aws:sqs', attributes: { AWSTraceHeader: SENDER_XRAY } };
    assert.equal(messageLinks({ Records }, 'sqs').length, 128);
  });

  test('the cap counts distinct producers, not records: repeats early in a batch hide no later producer', () => {
    // A SendMessageBatch producer's header repeats on each of its messages.
    const header = (parent: number) =>
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${(parent + 1).toString(16).padStart(16, '0')};Sampled=1`;
    const Records = [
      ...Array.from({ length: 150 }, () => ({
        eventSource: 'aws:sqs',
        attributes: { AWSTraceHeader: SENDER_XRAY },
      })),
      ...Array.from({ length: 50 }, (_, i) => ({
        eventSource: 'aws:sqs',
        attributes: { AWSTraceHeader: header(i) },
      })),
    ];
    const links = messageLinks({ Records }, 'sqs');
    assert.equal(links.length, 51);
    assert.equal(links[0]?.context.spanId, SENDER.spanId);
    assert.equal(links[50]?.context.spanId, '0000000000000032');
  });
});
