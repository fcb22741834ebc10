import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { snsMessageCarriers, sqsMessageCarriers } from '../../../src/lambda/triggers/index.js';
import { loadEvent } from './fixtures.js';

describe('sqsMessageCarriers', () => {
  it('lists one carrier per record, AWSTraceHeader first', () => {
    // What each carrier reads as (the headers of one with an AWSTraceHeader are read on demand).
    const carriers = sqsMessageCarriers(loadEvent('sqs-batch.json')).map(({ xrayHeader, headers }) =>
      xrayHeader === undefined ? { headers } : { xrayHeader, headers },
    );
    assert.deepEqual(carriers, [
      // The system attribute wins (contextFromCarrier); the traceparent beside it is read only
      // when the system attribute names no valid context.
      {
        xrayHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      },
      {
        headers: {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: 'vendor=value',
        },
      },
      {
        headers: {
          'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad9;Sampled=1',
        },
      },
      { headers: {} },
    ]);
  });

  it('never copies other message attributes', () => {
    assert.equal(JSON.stringify(sqsMessageCarriers(loadEvent('sqs-batch.json'))).includes('alice'), false);
  });

  it('stops at the limit', () => {
    assert.equal(sqsMessageCarriers(loadEvent('sqs-batch.json'), 2).length, 2);
  });

  it('gives nothing for anything else, without throwing', () => {
    for (const event of [null, 'x', [], { Records: 'x' }, { Records: [] }]) {
      assert.deepEqual(sqsMessageCarriers(event), []);
    }
    assert.deepEqual(sqsMessageCarriers(loadEvent('sns.json')), [{ headers: {} }]);
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );
    assert.deepEqual(sqsMessageCarriers(hostile), []);
  });
});

describe('snsMessageCarriers', () => {
  it('reads String message attributes', () => {
    assert.deepEqual(snsMessageCarriers(loadEvent('sns.json')), [
      { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
    ]);
  });
});
