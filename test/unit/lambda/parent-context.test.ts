import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { readLambdaHeader } from '../../../src/lambda/parent-context.js';
import { passedOnFieldsOf } from '../../../src/propagation/xray-header.js';

const propagator = new AWSXRayPropagator();
const viaPropagator = (header: string) =>
  trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter));

describe('readLambdaHeader: the parent', () => {
  it('gives the span context the X-Ray propagator gives, for every shape of header', () => {
    const headers = [
      // As Lambda writes it (the fast path), sampled and not, with and without Lineage.
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5',
      // Others (the propagator's path): another order, spaces, upper case, no Parent, zero ids, junk.
      'Parent=53995c3f42cd8ad8;Sampled=1;Root=1-5759e988-bd862e3fe1be46a994272793',
      'Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=1',
      'Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8;Sampled=1',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      'Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?',
      'garbage',
      '',
    ];
    for (const header of headers) {
      assert.deepEqual(trace.getSpanContext(readLambdaHeader(header).parent), viaPropagator(header), header);
    }
  });

  it('the fast path reads Root, Parent and Sampled', () => {
    const context = trace.getSpanContext(
      readLambdaHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0').parent,
    );
    assert.deepEqual(context, {
      traceId: '5759e988bd862e3fe1be46a994272793',
      spanId: '53995c3f42cd8ad8',
      traceFlags: 0,
      isRemote: true,
    });
    assert.equal(readLambdaHeader(undefined).parent, ROOT_CONTEXT);
  });

  it('reads the fields to pass on as passedOnFieldsOf does, in the same reading', () => {
    const lambda = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const headers = [
      lambda,
      `${lambda};Lineage=a87bd80c:1|68fd508a:5`,
      `${lambda};Lineage=`,
      `${lambda};`,
      `${lambda};Lineage=a87bd80c:1;Foo=bar`,
      `${lambda};Lineage=a b`,
      `${lambda}; Lineage=a87bd80c:1 `,
      `${lambda};Root=1-00000000-000000000000000000000000`,
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1;Lineage=a87bd80c:1',
      'Parent=53995c3f42cd8ad8;Lineage=a87bd80c:1;Sampled=1;Root=1-5759e988-bd862e3fe1be46a994272793',
      'garbage',
    ];
    for (const header of headers) {
      const read = readLambdaHeader(header);
      assert.equal(read.passedOn, passedOnFieldsOf(header), header);
      assert.deepEqual(trace.getSpanContext(read.parent), viaPropagator(header), header);
    }
    assert.equal(readLambdaHeader(`${lambda};Lineage=a87bd80c:1`).passedOn, 'Lineage=a87bd80c:1');
    assert.deepEqual(readLambdaHeader(undefined), { parent: ROOT_CONTEXT, passedOn: undefined });
  });
});
