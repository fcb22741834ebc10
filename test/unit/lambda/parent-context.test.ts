import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { parentFromTraceHeader } from '../../../src/lambda/parent-context.js';

const propagator = new AWSXRayPropagator();
const viaPropagator = (header: string) =>
  trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter));

describe('parentFromTraceHeader', () => {
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
      assert.deepEqual(trace.getSpanContext(parentFromTraceHeader(header)), viaPropagator(header), header);
    }
  });

  it('the fast path reads Root, Parent and Sampled', () => {
    const context = trace.getSpanContext(
      parentFromTraceHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0'),
    );
    assert.deepEqual(context, {
      traceId: '5759e988bd862e3fe1be46a994272793',
      spanId: '53995c3f42cd8ad8',
      traceFlags: 0,
      isRemote: true,
    });
    assert.equal(parentFromTraceHeader(undefined), ROOT_CONTEXT);
  });
});
