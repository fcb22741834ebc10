import { diag, type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { makeAnnotations } from './annotations.js';
import { AttributeReader } from './attribute-reader.js';
import { isAwsSdkSpan, makeAwsBlock } from './aws-block.js';
import { exceptionTypes, makeCause } from './cause.js';
import { faultFlags } from './fault-flags.js';
import { httpStatusCode, makeHttpBlock } from './http-block.js';
import { isValidSpanId, toXRayTraceId } from './ids.js';
import { makeLinks } from './links.js';
import { chooseSegmentName } from './names.js';
import { resourceProfileOf } from './resource-profile.js';
import type { XRaySegmentDocument } from './segment-types.js';
import { makeSqlBlock } from './sql-block.js';

/** Options of the span → segment document translation (the collector exporter's settings). */
export interface SegmentDocumentOptions {
  /** Span (or `otel.resource.<key>`) attribute keys written as annotations, not metadata. */
  indexedAttributes?: readonly string[];
  /** Write every annotatable attribute as an annotation (the collector's `index_all_attributes`). */
  indexAllAttributes?: boolean;
}

/**
 * Translates one finished (or still running) OpenTelemetry span into the X-Ray segment
 * documents the collector's `awsxray` exporter would send for it: today always one document,
 * or none when the span's IDs cannot be expressed in X-Ray (the array leaves room for the
 * collector's two-document "local root dependency" form).
 *
 * A SERVER span, or one with no parent or a remote parent, becomes a segment; any other span an
 * independent subsegment (`type: "subsegment"`, `parent_id`, `trace_id`). Pure: reads the span,
 * never changes it, and never throws.
 *
 * @example
 * const [document] = toSegmentDocuments(span, { indexedAttributes: ['tenant.id'] });
 * socket.send(`{"format":"json","version":1}\n${JSON.stringify(document)}`);
 */
export function toSegmentDocuments(
  span: ReadableSpan,
  options: SegmentDocumentOptions = {},
): XRaySegmentDocument[] {
  try {
    const document = toSegmentDocument(span, options);
    return document === undefined ? [] : [document];
  } catch (error: unknown) {
    // An exotic span (a foreign ReadableSpan implementation, a getter that throws) must never
    // take the export down: it is skipped.
    diag.debug('X-Ray: could not translate a span, skipping it', error);
    return [];
  }
}

/**
 * One span's document, as {@link toSegmentDocuments} makes it, or `undefined` when it makes none;
 * `reads` (if given) collects the span attribute keys whose values the translation read. Throws
 * what the translation throws.
 */
export function toSegmentDocument(
  span: ReadableSpan,
  options: SegmentDocumentOptions,
  reads?: Set<string>,
): XRaySegmentDocument | undefined {
  const context = span.spanContext();
  const traceId = toXRayTraceId(context.traceId);
  if (traceId === undefined || !isValidSpanId(context.spanId)) {
    diag.debug(`X-Ray: span "${span.name}" has an ID X-Ray cannot take, skipping it`);
    return undefined;
  }

  const parent = span.parentSpanContext;
  const parentId = isValidSpanId(parent?.spanId) ? parent.spanId.toLowerCase() : undefined;
  const kind = span.kind;
  // A remote parent means the span is this service's entry point (e.g. the Lambda handler under
  // Lambda's own segment): it becomes a segment of its own, as a SERVER span does.
  const isSegment = kind === SpanKind.SERVER || parentId === undefined || parent?.isRemote === true;

  const attributes = new AttributeReader(span.attributes ?? {}, reads);
  // Everything derived from the resource alone is worked out once per resource.
  const profile = resourceProfileOf(span.resource?.attributes);
  const resource = profile.reader;
  const isAwsSdk = isAwsSdkSpan(attributes);

  const document: XRaySegmentDocument = {
    name: chooseSegmentName({ spanName: span.name ?? '', kind, isSegment, isAwsSdk, attributes, resource }),
    id: context.spanId.toLowerCase(),
    trace_id: traceId,
    start_time: toEpochSeconds(span.startTime),
  };
  if (parentId !== undefined) document.parent_id = parentId;
  if (span.ended && !isZero(span.endTime)) document.end_time = toEpochSeconds(span.endTime);
  else document.in_progress = true;

  if (isSegment) {
    if (profile.origin !== undefined) document.origin = profile.origin;
    if (profile.serviceVersion !== undefined) document.service = { version: profile.serviceVersion };
  } else {
    document.type = 'subsegment';
    const namespace = namespaceOf(kind, isAwsSdk, attributes);
    if (namespace !== undefined) document.namespace = namespace;
  }

  const http = makeHttpBlock(attributes, kind);
  if (http !== undefined) document.http = http;

  const events = span.events ?? [];
  const status = span.status ?? { code: SpanStatusCode.UNSET };
  const cause = makeCause({
    kind,
    status,
    events,
    attributes,
    sdkLanguage: resource.string('telemetry.sdk.language'),
  });
  const flags = faultFlags({
    status,
    httpStatus: httpStatusCode(attributes),
    isAwsSdk,
    exceptionTypes: exceptionTypes(events),
    throttled: attributes.raw('aws.throttled') === true,
  });
  // The collector writes all three flags on every document, false included.
  document.fault = flags.fault;
  document.error = flags.error;
  document.throttle = flags.throttle;
  if (cause !== undefined) document.cause = cause;

  const aws = makeAwsBlock({ attributes, resource: profile.aws, isAwsSdk, isSegment });
  if (aws !== undefined) document.aws = aws;
  const sql = makeSqlBlock(attributes);
  if (sql !== undefined) document.sql = sql;

  const { user, annotations, metadata } = makeAnnotations({
    attributes,
    resource,
    includeResource: isSegment,
    indexedAttributes: options.indexedAttributes ?? [],
    indexAllAttributes: options.indexAllAttributes === true,
    resourceCache: profile.entries,
  });
  if (user !== undefined) document.user = user;
  if (annotations !== undefined) document.annotations = annotations;
  if (metadata !== undefined) document.metadata = metadata;

  const links = makeLinks(span.links ?? []);
  if (links !== undefined) document.links = links;
  return document;
}

/**
 * `aws` for AWS SDK calls, `remote` for calls to other services (client and producer spans,
 * database queries, consumers of a named remote service); none for in-process work.
 */
function namespaceOf(
  kind: SpanKind,
  isAwsSdk: boolean,
  attrs: AttributeReader,
): 'aws' | 'remote' | undefined {
  if (isAwsSdk || attrs.has('aws.service')) return 'aws';
  if (kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER) return 'remote';
  if (attrs.has('db.system', 'db.system.name')) return 'remote';
  if (kind === SpanKind.CONSUMER && attrs.has('aws.remote.service')) return 'remote';
  return undefined;
}

/** X-Ray times are epoch seconds; microseconds of today's epoch fit a double exactly. */
export function toEpochSeconds(time: HrTime): number {
  const [seconds, nanos] = time;
  return (seconds * 1_000_000 + Math.round(nanos / 1000)) / 1_000_000;
}

function isZero(time: HrTime): boolean {
  return time[0] === 0 && time[1] === 0;
}
