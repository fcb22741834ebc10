import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { XRaySegmentDocument } from '../../../src/xray/segment-types.js';

/** Fixtures live in the source tree; tests run from build/test/unit/xray/. */
export function fixturePath(name: string): URL {
  return new URL(`../../../../test/fixtures/xray/${name}`, import.meta.url);
}

/** A Lambda function's resource, as the project's bootstrap and the Lambda detector describe it. */
export const LAMBDA_RESOURCE = {
  'service.name': 'orders-api',
  'service.version': '1.4.2',
  'cloud.provider': 'aws',
  'cloud.platform': 'aws_lambda',
  'cloud.region': 'eu-west-1',
  'cloud.account.id': '123456789012',
  'faas.name': 'orders-api',
  'faas.version': '$LATEST',
  'aws.log.group.names': ['/aws/lambda/orders-api'],
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.version': '2.12.0',
};

/** Lambda's own segment, the remote parent of the function's handler span. */
export const LAMBDA_FACADE = {
  traceId: '5f84c7a0bb5ab5f0b0c1d2e3f4a5b6c7',
  spanId: '53995c3f42cd8ad8',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
};

/** A tracer that records real SDK spans in memory. */
export function makeTracing(resource: Record<string, unknown> = LAMBDA_RESOURCE) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource as Record<string, string>),
    idGenerator: new AWSXRayIdGenerator(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('otel-lambda-xray-test');

  /** Starts a span under `parent` (a context), lets `body` fill it, ends it, and returns it finished. */
  function record(
    name: string,
    options: SpanOptions,
    parent: Context,
    body: (span: Span) => void = () => {},
  ): ReadableSpan {
    const span = tracer.startSpan(name, options, parent);
    body(span);
    span.end();
    const finished = exporter.getFinishedSpans().at(-1);
    assert.ok(finished !== undefined, 'the span was exported');
    return finished;
  }

  /** A context whose active span is `span` (for children). */
  function under(span: ReadableSpan): Context {
    return trace.setSpanContext(ROOT_CONTEXT, span.spanContext());
  }

  return { tracer, exporter, provider, record, under };
}

/** The context of a Lambda invocation: Lambda's facade segment as remote parent. */
export const LAMBDA_CONTEXT = trace.setSpanContext(ROOT_CONTEXT, LAMBDA_FACADE);

function compileSchema() {
  const schema = JSON.parse(readFileSync(fixturePath('segment-document-schema.json'), 'utf8'));
  assert.equal(schema.$schema, 'http://json-schema.org/draft-04/schema#');
  // Ajv 8 has no draft-04 mode (that is the separate `ajv-draft-04` package). This schema uses only
  // keywords whose meaning draft-04 and draft-07 share (no `id`, no boolean
  // `exclusiveMinimum`/`exclusiveMaximum`; draft-compat.test.ts checks that), so it is
  // validated with Ajv's draft-07 engine, `$schema` removed.
  delete schema.$schema;
  const ajv = new Ajv.default({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  addFormats.default(ajv);
  // Descriptive, non-validating members of the published schema.
  ajv.addVocabulary(['version', 'java_pattern']);
  return ajv.compile(schema);
}

const validateSchema = compileSchema();

/** Asserts that `document` validates against the published segment document schema. */
export function assertValidDocument(document: unknown): void {
  const valid = validateSchema(JSON.parse(JSON.stringify(document)));
  assert.ok(
    valid,
    `schema errors: ${JSON.stringify(validateSchema.errors, null, 2)}\n${JSON.stringify(document)}`,
  );
}

/** Asserts every document is valid and returns them. */
export function validDocuments(documents: XRaySegmentDocument[]): XRaySegmentDocument[] {
  for (const document of documents) assertValidDocument(document);
  return documents;
}
