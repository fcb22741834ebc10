import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Context, defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import type { IncomingContextPolicy } from '../../../src/config/load-config.js';
import { type ExtractFromHeaders, selectInvocationParent } from '../../../src/lambda/incoming-context.js';
import { readLambdaHeader } from '../../../src/lambda/parent-context.js';

// The layer's default propagators, passed in rather than registered globally.
const propagator = new CompositePropagator({
  propagators: [new AWSXRayPropagator(), new W3CTraceContextPropagator()],
});
const extract: ExtractFromHeaders = (headers) =>
  propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);

const LAMBDA_TRACE = '5f1a2b3c4d5e6f708192a3b4';
const lambdaHeader = (sampled: boolean) =>
  `Root=1-65f0aa00-${LAMBDA_TRACE};Parent=1111111111111111;Sampled=${sampled ? 1 : 0}`;
const CALLER = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const traceparent = `00-${CALLER.traceId}-${CALLER.spanId}-01`;

function traceIdOf(context: Context): string | undefined {
  return trace.getSpanContext(context)?.traceId;
}

function select(policy: IncomingContextPolicy, lambda: string | undefined, headers?: Record<string, string>) {
  const chosen = selectInvocationParent(readLambdaHeader(lambda).parent, headers, policy, extract);
  return { parent: traceIdOf(chosen.context), links: chosen.links.map((l) => l.context.traceId) };
}

const LAMBDA_ID = `65f0aa00${LAMBDA_TRACE}`;

describe('which trace an HTTP-triggered invocation joins', () => {
  test('lambda: always Lambda, the caller linked', () => {
    assert.deepEqual(select('lambda', lambdaHeader(true), { traceparent }), {
      parent: LAMBDA_ID,
      links: [CALLER.traceId],
    });
    assert.deepEqual(select('lambda', lambdaHeader(false), { traceparent }), {
      parent: LAMBDA_ID,
      links: [CALLER.traceId],
    });
    assert.deepEqual(select('lambda', undefined, { traceparent }), {
      parent: undefined,
      links: [CALLER.traceId],
    });
  });

  test('incoming-if-unsampled: Lambda when sampled, else the caller; Lambda linked only when it recorded', () => {
    assert.deepEqual(select('incoming-if-unsampled', lambdaHeader(true), { traceparent }), {
      parent: LAMBDA_ID,
      links: [CALLER.traceId],
    });
    assert.deepEqual(select('incoming-if-unsampled', lambdaHeader(false), { traceparent }), {
      parent: CALLER.traceId,
      links: [],
    });
    assert.deepEqual(select('incoming-if-unsampled', undefined, { traceparent }), {
      parent: CALLER.traceId,
      links: [],
    });
  });

  test('incoming: the caller whenever valid, a sampled Lambda context linked', () => {
    assert.deepEqual(select('incoming', lambdaHeader(true), { traceparent }), {
      parent: CALLER.traceId,
      links: [LAMBDA_ID],
    });
    assert.deepEqual(select('incoming', lambdaHeader(true), {}), { parent: LAMBDA_ID, links: [] });
  });

  test('an X-Amzn-Trace-Id request header counts; the Root-only one API Gateway and ALB add does not', () => {
    const xray = `Root=1-5e66d96f-7491f09a2b79d18acf3d0500;Parent=53995c3f42cd8ad8;Sampled=1`;
    assert.deepEqual(select('incoming-if-unsampled', lambdaHeader(false), { 'x-amzn-trace-id': xray }), {
      parent: '5e66d96f7491f09a2b79d18acf3d0500',
      links: [],
    });
    const rootOnly = { 'x-amzn-trace-id': 'Root=1-5c536348-3d683b8b04734faae651f476' };
    assert.deepEqual(select('incoming', lambdaHeader(true), rootOnly), { parent: LAMBDA_ID, links: [] });
  });

  test('the same trace on both sides is continued once, not linked to itself', () => {
    const sameTrace = `Root=1-65f0aa00-${LAMBDA_TRACE};Parent=2222222222222222;Sampled=1`;
    assert.deepEqual(select('lambda', lambdaHeader(true), { 'x-amzn-trace-id': sameTrace }), {
      parent: LAMBDA_ID,
      links: [],
    });
  });

  test('non-HTTP events (no headers) keep Lambda as parent with no link', () => {
    assert.deepEqual(select('incoming', lambdaHeader(true), undefined), { parent: LAMBDA_ID, links: [] });
  });
});
