import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { fitToDatagram } from '../../../src/xray/datagram-fit.js';
import { type SegmentDocumentOptions, toSegmentDocuments } from '../../../src/xray/segment-document.js';
import type { XRaySegmentDocument } from '../../../src/xray/segment-types.js';
import { LAMBDA_CONTEXT, LAMBDA_RESOURCE, makeTracing, validDocuments } from './helpers.js';

/** An ECS task on EC2: a resource whose aws block, origin and name all differ from Lambda's. */
const ECS_RESOURCE = {
  'service.name': 'billing',
  'container.image.tag': '7.0.1',
  'cloud.provider': 'aws',
  'cloud.platform': 'aws_ecs',
  'cloud.availability_zone': 'eu-west-1a',
  'aws.ecs.launchtype': 'ec2',
  'aws.ecs.task.arn': 'arn:aws:ecs:eu-west-1:123456789012:task/abc',
  'container.name': 'billing',
  'host.id': 'i-0123456789abcdef0',
  'host.type': 'm7g.large',
  'aws.log.group.arns': ['arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/billing:*'],
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.version': '2.12.0',
  'telemetry.distro.version': '0.1.0',
  'deployment.ring': 3,
  'deployment.canary': false,
};

/** A resource on another cloud: no aws block and no origin. */
const GCP_RESOURCE = { 'service.name': 'elsewhere', 'cloud.provider': 'gcp', 'cloud.account.id': '42' };

/**
 * The same span seen through a copy of its resource attributes: a resource never seen before,
 * so nothing cached applies and the translation derives everything afresh.
 */
function withFreshResource(span: ReadableSpan): ReadableSpan {
  const attributes = { ...span.resource.attributes };
  return Object.create(span, { resource: { value: { ...span.resource, attributes } } }) as ReadableSpan;
}

function translate(span: ReadableSpan, options: SegmentDocumentOptions = {}): XRaySegmentDocument {
  const documents = validDocuments(toSegmentDocuments(span, options));
  assert.equal(documents.length, 1);
  return documents[0];
}

/** Exception IDs are random for each translation: set to one value so documents compare. */
function withoutRandomIds(document: XRaySegmentDocument): XRaySegmentDocument {
  for (const exception of document.cause?.exceptions ?? []) exception.id = '0000000000000000';
  return document;
}

/** Asserts the (possibly cached) translation equals the uncached one, as objects and as bytes. */
function assertSameAsUncached(span: ReadableSpan, options: SegmentDocumentOptions = {}): XRaySegmentDocument {
  const document = withoutRandomIds(translate(span, options));
  const uncached = withoutRandomIds(translate(withFreshResource(span), options));
  assert.deepEqual(document, uncached);
  assert.equal(JSON.stringify(document), JSON.stringify(uncached));
  assert.deepEqual(fitToDatagram(document).payloads, fitToDatagram(uncached).payloads);
  return document;
}

/** Spans of every shape whose translation reads the resource: segments and subsegments. */
function spansOf(resource: Record<string, unknown>): ReadableSpan[] {
  const { record, under } = makeTracing(resource);
  const handler = record(
    'handler',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'faas.trigger': 'http',
        'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live',
        'http.request.method': 'GET',
        'url.full': 'https://example.com/orders',
        'http.response.status_code': 200,
        'tenant.id': 'acme',
        'otel.resource.service.name': 'a span attribute named like a resource one',
      },
    },
    LAMBDA_CONTEXT,
  );
  const consumer = record(
    'queue process',
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'aws_sqs' } },
    LAMBDA_CONTEXT,
  );
  const root = record(
    'cron',
    { kind: SpanKind.INTERNAL, attributes: { 'aws.xray.annotations': ['job'] } },
    ROOT_CONTEXT,
  );
  const sdkCall = record(
    'SQS.SendMessage',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'rpc.system': 'aws-api',
        'rpc.service': 'SQS',
        'rpc.method': 'SendMessage',
        'cloud.region': 'eu-west-1',
        'url.full': 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
      },
    },
    under(handler),
  );
  const failed = record('work', { kind: SpanKind.INTERNAL }, under(handler), (span) => {
    span.recordException(new TypeError('boom'));
    span.setStatus({ code: SpanStatusCode.ERROR });
  });
  return [handler, consumer, root, sdkCall, failed];
}

test('a span translated twice gives the same document as an uncached translation, to the byte', () => {
  for (const span of spansOf(LAMBDA_RESOURCE)) {
    const first = assertSameAsUncached(span);
    const second = assertSameAsUncached(span);
    assert.deepEqual(second, first);
    assert.equal(JSON.stringify(second), JSON.stringify(first));
  }
});

test('spans of different resources, interleaved, each get their own resource’s parts', () => {
  const lambda = spansOf(LAMBDA_RESOURCE);
  const ecs = spansOf(ECS_RESOURCE);
  const gcp = spansOf(GCP_RESOURCE);
  for (let round = 0; round < 2; round += 1) {
    for (let index = 0; index < lambda.length; index += 1) {
      assertSameAsUncached(lambda[index]);
      assertSameAsUncached(ecs[index]);
      assertSameAsUncached(gcp[index]);
    }
  }
  const [lambdaSegment, ecsSegment, gcpSegment] = [lambda[0], ecs[0], gcp[0]].map((span) => translate(span));
  assert.equal(lambdaSegment.origin, 'AWS::Lambda::Function');
  assert.equal(ecsSegment.origin, 'AWS::ECS::EC2');
  assert.equal(gcpSegment.origin, undefined);
  assert.deepEqual(ecsSegment.service, { version: '7.0.1' });
  assert.equal(ecsSegment.aws?.ecs?.task_arn, 'arn:aws:ecs:eu-west-1:123456789012:task/abc');
  assert.equal(lambdaSegment.aws?.ecs, undefined);
  assert.equal(gcpSegment.aws, undefined);
  assert.equal(ecsSegment.metadata?.default?.['otel.resource.deployment.ring'], 3);
  assert.equal(lambdaSegment.metadata?.default?.['otel.resource.deployment.ring'], undefined);
});

test('a different list of indexed attributes is never answered from the cache of another', () => {
  const [handler, consumer] = spansOf(ECS_RESOURCE);
  const lists: SegmentDocumentOptions[] = [
    {},
    { indexedAttributes: ['otel.resource.service.name', 'tenant.id'] },
    { indexedAttributes: ['otel.resource.deployment.ring'] },
    { indexedAttributes: ['otel.resource.deployment.ring'], indexAllAttributes: true },
    { indexAllAttributes: true },
    {},
  ];
  for (const options of [...lists, ...lists]) {
    assertSameAsUncached(handler, options);
    assertSameAsUncached(consumer, options);
  }
  const indexed = translate(handler, { indexedAttributes: ['otel.resource.service.name'] });
  // The span's own attribute of that name is written after the resource's, so it wins.
  assert.deepEqual(indexed.annotations, {
    otel_resource_service_name: 'a span attribute named like a resource one',
  });
  const [, , ecsRoot] = spansOf(ECS_RESOURCE);
  assert.deepEqual(translate(ecsRoot, { indexedAttributes: ['otel.resource.service.name'] }).annotations, {
    otel_resource_service_name: 'billing',
  });
  assert.equal(translate(handler).annotations, undefined);

  // The caller's array changed in place between two translations.
  const list = ['otel.resource.deployment.canary'];
  assert.deepEqual(translate(handler, { indexedAttributes: list }).annotations, {
    otel_resource_deployment_canary: false,
  });
  list[0] = 'otel.resource.deployment.ring';
  assert.deepEqual(translate(handler, { indexedAttributes: list }).annotations, {
    otel_resource_deployment_ring: 3,
  });
});

test('a span that indexes a resource attribute itself does not change the next span’s document', () => {
  const { record } = makeTracing(ECS_RESOURCE);
  const listing = record(
    'listing',
    { kind: SpanKind.SERVER, attributes: { 'aws.xray.annotations': ['otel.resource.container.name'] } },
    LAMBDA_CONTEXT,
  );
  const plain = record('plain', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  for (let round = 0; round < 2; round += 1) {
    assert.deepEqual(assertSameAsUncached(listing).annotations, { otel_resource_container_name: 'billing' });
    assert.equal(assertSameAsUncached(plain).annotations, undefined);
  }
});

test('changing one document never changes the next one of the same resource', () => {
  const [handler] = spansOf(ECS_RESOURCE);
  const first = translate(handler);
  const expected = JSON.stringify(translate(handler));
  const metadata = first.metadata?.default ?? {};
  metadata['otel.resource.service.name'] = 'changed';
  delete metadata['otel.resource.container.name'];
  assert.ok(first.aws !== undefined);
  first.aws.account_id = 'changed';
  delete first.aws.ecs;
  assert.throws(() => {
    // The resource's nested parts are shared, so they are frozen rather than silently changed.
    (translate(handler).aws?.xray as { sdk: string }).sdk = 'changed';
  }, TypeError);
  assert.equal(JSON.stringify(translate(handler)), expected);
});
