import {
  type Attributes,
  type AttributeValue,
  type HrTime,
  type SpanContext,
  SpanStatusCode,
} from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ANNOTATIONS_ATTRIBUTE, METADATA_ATTRIBUTE_PREFIX } from './annotations.js';
import { isValidSpanId, toXRayTraceId } from './ids.js';
import { type SegmentDocumentOptions, toEpochSeconds, toSegmentDocument } from './segment-document.js';

/**
 * Serialised segment documents made from templates, for the spans that come back in every
 * invocation with the same shape: the invocation itself, the same queries, the same calls.
 *
 * The translation to a segment document is a pure function of the span. Most of what it reads is
 * the same from one invocation to the next (name, kind, attribute keys, the values it turns into
 * `http`, `sql` or `aws` fields), and what changes (IDs, times, an invocation ID, a message ID) it
 * only copies into the document: an attribute whose value the translation never read (see
 * `AttributeReader`'s `reads`) can only have been copied, as an annotation or into metadata. So a
 * document made once with marker values in those places is a template: later spans of the same
 * shape and the same read values get the same document with their own values put in. That costs
 * a few string operations instead of the translation's thirty-odd steps, which after a freeze run
 * in cold caches on the path of every invocation's response.
 *
 * A template is made only for a shape met twice (values that never repeat, such as a path with an
 * order ID in it, never pay for one), checked when it is made (the span it was made for must come
 * out exactly as the translation makes it, every marker found at most once). Spans the translation
 * reads more of (events, links) and failed spans (each document gives its exception an ID of its
 * own) are never templated. Everything not templated, or whose document would not fit a datagram,
 * goes the general way (`toSegmentDocuments` and `fitToDatagram`). Memory is bounded in count and
 * in size (see {@link LIMITS}; shapes past the limit are all dropped and learnt again): a few MiB
 * at the very worst.
 */
export class SegmentTemplates {
  /** Documents made from a template so far (for tests and diagnostics). */
  filled = 0;
  private readonly byResource = new WeakMap<object, Shapes>();

  constructor(private readonly options: SegmentDocumentOptions) {}

  /**
   * The span's document as JSON, or `undefined` when it must go the general way. Never throws.
   */
  serialize(span: ReadableSpan): string | undefined {
    try {
      return this.serializeOrThrow(span);
    } catch {
      return undefined;
    }
  }

  private serializeOrThrow(span: ReadableSpan): string | undefined {
    if ((span.events?.length ?? 0) > 0 || (span.links?.length ?? 0) > 0) return undefined;
    // A failed span's cause gets an exception ID of its own in every document.
    if (span.status?.code === SpanStatusCode.ERROR) return undefined;
    const context = span.spanContext();
    const traceId = toXRayTraceId(context.traceId);
    if (traceId === undefined || !isValidSpanId(context.spanId)) return undefined;
    const parent = span.parentSpanContext;
    const parentIsValid = isValidSpanId(parent?.spanId);
    const hasEnd = span.ended && !isZero(span.endTime);
    const attributes = span.attributes ?? {};

    const shapes = this.shapesOf(span.resource?.attributes ?? NO_RESOURCE);
    const head = headKeyOf(span, parentIsValid, parent?.isRemote === true, hasEnd);
    let sameHead = shapes.byHead.get(head);
    let shape = sameHead?.find((candidate) => hasAttributesOf(candidate, attributes));
    if (shape === undefined) {
      // Shapes that never come back (a name with an ID in it) must not keep out those that do.
      if (shapes.count >= LIMITS.shapes) {
        shapes.byHead.clear();
        shapes.count = 0;
        sameHead = undefined;
      }
      // First of its shape: translated the general way, noting what the translation read.
      const reads = new Set<string>();
      const document = toSegmentDocument(span, this.options, reads);
      shape = {
        ...attributeListOf(attributes),
        holes: holesOf(attributes, reads),
        templates: new Map(),
        seen: new Set(),
      };
      if (sameHead === undefined) shapes.byHead.set(head, [shape]);
      else sameHead.push(shape);
      shapes.count += 1;
      const valuesKey = valuesKeyOf(attributes, shape.holes);
      if (valuesKey !== undefined) shape.seen.add(valuesKey);
      return document === undefined ? undefined : JSON.stringify(document);
    }

    const valuesKey = valuesKeyOf(attributes, shape.holes);
    if (valuesKey === undefined) return undefined;
    const template = shape.templates.get(valuesKey);
    const real: RealValues = { span, context, traceId, parentIsValid, hasEnd, attributes };
    if (template !== undefined) {
      const json = template === null ? undefined : fill(template, real);
      if (json !== undefined) this.filled += 1;
      return json;
    }
    if (!shape.seen.has(valuesKey)) {
      if (shape.seen.size >= LIMITS.seenPerShape) shape.seen.clear();
      shape.seen.add(valuesKey);
      return undefined;
    }
    shape.seen.delete(valuesKey);
    if (shape.templates.size >= LIMITS.templatesPerShape) return undefined;
    return this.makeTemplate(shape, valuesKey, real);
  }

  private shapesOf(resource: object): Shapes {
    let shapes = this.byResource.get(resource);
    if (shapes === undefined) {
      shapes = { byHead: new Map(), count: 0 };
      this.byResource.set(resource, shapes);
    }
    return shapes;
  }

  /**
   * Makes the template for this shape and these values from a second translation with markers
   * in the copied places, keeps it if it gives back exactly the span's own document, and returns
   * that document's JSON (`undefined`: the general way).
   */
  private makeTemplate(shape: Shape, valuesKey: string, real: RealValues): string | undefined {
    const realReads = new Set<string>();
    const realDocument = toSegmentDocument(real.span, this.options, realReads);
    if (realDocument === undefined) {
      shape.templates.set(valuesKey, null);
      return undefined;
    }
    const realJson = JSON.stringify(realDocument);
    if (realJson.length > LIMITS.templateChars) {
      shape.templates.set(valuesKey, null);
      return realJson;
    }
    const { probe, markers } = probeOf(real, shape.holes);
    const probeReads = new Set<string>();
    const probeDocument = toSegmentDocument(probe, this.options, probeReads);
    const template =
      probeDocument !== undefined && sameSet(realReads, probeReads) && !readsAny(realReads, shape.holes)
        ? templateOf(JSON.stringify(probeDocument), markers)
        : undefined;
    // Checked on the span it was made from: a template that would not give its document is dropped.
    const filled = template === undefined ? undefined : fill(template, real);
    if (template !== undefined && filled === undefined) {
      // This span's own values cannot be filled in (a long string, a NaN): the template is
      // unchecked, so it is not kept; the next span with these values makes it again.
      shape.seen.add(valuesKey);
    } else {
      shape.templates.set(valuesKey, filled === realJson ? (template as Template) : null);
    }
    return realJson;
  }
}

/**
 * Bounds: shapes per resource, templates and values met once per shape; the longest values key
 * (the values a template depends on) and document templated, in characters; the longest string
 * copied into a template (annotations cut longer ones, which is not a copy).
 */
const LIMITS = {
  shapes: 32,
  templatesPerShape: 8,
  seenPerShape: 16,
  valuesKeyChars: 2048,
  templateChars: 8192,
  copiedStringChars: 1000,
} as const;

const NO_RESOURCE = {};

/**
 * The shapes of one resource's spans, by {@link headKeyOf} (what decides the document but the
 * attributes), then told apart by their attribute keys and types; `count` over all heads.
 */
interface Shapes {
  readonly byHead: Map<string, Shape[]>;
  count: number;
}

/**
 * What the template knows of a shape: its attribute keys and their types, in order, which
 * attributes it copies, and its templates by values.
 */
interface Shape {
  readonly keys: readonly string[];
  /** One {@link typeCode} per key. */
  readonly types: string;
  /** Attributes the translation did not read, of a type it copies as it is (see {@link holesOf}). */
  readonly holes: ReadonlySet<string>;
  /** By {@link valuesKeyOf}; `null`: these values cannot be templated. */
  readonly templates: Map<string, Template | null>;
  /** Values met once, not templated yet. */
  readonly seen: Set<string>;
}

/** The document as `chunks[0] + value of fills[0] + chunks[1] + ...`. */
interface Template {
  readonly chunks: readonly string[];
  readonly fills: readonly Fill[];
}

/** A place in the template: one of the span's own values, or an attribute (by key). */
const OWN = { spanId: 0, parentId: 1, traceId: 2, start: 3, end: 4 } as const;
type Fill = (typeof OWN)[keyof typeof OWN] | string;

/** The span being serialised, with what `serialize` already worked out. */
interface RealValues {
  readonly span: ReadableSpan;
  readonly context: SpanContext;
  readonly traceId: string;
  readonly parentIsValid: boolean;
  readonly hasEnd: boolean;
  readonly attributes: Attributes;
}

/** Marker values: valid IDs and times nothing else produces, and unique strings and numbers. */
const MARK_SPAN_ID = 'f0e1d2c3b4a59687';
const MARK_PARENT_ID = '8796a5b4c3d2e1f0';
const MARK_TRACE_ID = '5a0c1e2b3d4f5a6b7c8d9e0f1a2b3c4d';
const MARK_START: HrTime = [1_000_000_001, 123_457_000];
const MARK_END: HrTime = [1_000_000_002, 765_433_000];
const NONCE = Math.random().toString(36).slice(2, 10);

/** The span with markers in the copied places, and each marker's text as the document holds it. */
function probeOf(
  real: RealValues,
  holes: ReadonlySet<string>,
): { probe: ReadableSpan; markers: [text: string, fill: Fill][] } {
  const { span, context, parentIsValid, hasEnd, attributes } = real;
  const markers: [string, Fill][] = [
    [MARK_SPAN_ID, OWN.spanId],
    [toXRayTraceId(MARK_TRACE_ID) as string, OWN.traceId],
    [String(toEpochSeconds(MARK_START)), OWN.start],
  ];
  if (parentIsValid) markers.push([MARK_PARENT_ID, OWN.parentId]);
  if (hasEnd) markers.push([String(toEpochSeconds(MARK_END)), OWN.end]);

  const marked: Attributes = {};
  // Number markers differ from one template to the next, as the string markers do by their nonce.
  const numberSalt = Math.random();
  let index = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (holes.has(key)) {
      index += 1;
      const marker = typeof value === 'number' ? -(index + numberSalt) * 1e-300 : `@${index}.${NONCE}@`;
      markers.push([JSON.stringify(marker), key]);
      marked[key] = marker;
    } else {
      marked[key] = value;
    }
  }
  const parent = span.parentSpanContext;
  const probe = {
    name: span.name,
    kind: span.kind,
    status: span.status,
    events: span.events,
    links: span.links,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    ended: span.ended,
    startTime: MARK_START,
    endTime: hasEnd ? MARK_END : span.endTime,
    duration: span.duration,
    attributes: marked,
    parentSpanContext: parentIsValid && parent ? { ...parent, spanId: MARK_PARENT_ID } : parent,
    spanContext: () => ({ ...context, traceId: MARK_TRACE_ID, spanId: MARK_SPAN_ID }),
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  } satisfies ReadableSpan;
  return { probe, markers };
}

/**
 * The template from the marked document: IDs and times must be found exactly once, attributes at
 * most once (none: the translation left the value out, e.g. a key it consumed unread).
 */
function templateOf(json: string, markers: readonly [string, Fill][]): Template | undefined {
  const places: [at: number, length: number, fill: Fill][] = [];
  for (const [text, fillWith] of markers) {
    const at = json.indexOf(text);
    if (at >= 0 && json.indexOf(text, at + 1) >= 0) return undefined;
    if (at < 0) {
      if (typeof fillWith !== 'string') return undefined;
      continue;
    }
    places.push([at, text.length, fillWith]);
  }
  places.sort((a, b) => a[0] - b[0]);
  const chunks: string[] = [];
  const fills: Fill[] = [];
  let from = 0;
  for (const [at, length, fillWith] of places) {
    if (at < from) return undefined;
    chunks.push(json.slice(from, at));
    fills.push(fillWith);
    from = at + length;
  }
  chunks.push(json.slice(from));
  return { chunks, fills };
}

/** The span's document from the template; `undefined` when a copied value is not copied as it is. */
function fill(template: Template, real: RealValues): string | undefined {
  const { chunks, fills } = template;
  let json = chunks[0] as string;
  for (let index = 0; index < fills.length; index += 1) {
    const text = fillText(fills[index] as Fill, real);
    if (text === undefined) return undefined;
    json += text + (chunks[index + 1] as string);
  }
  return json;
}

function fillText(fillWith: Fill, real: RealValues): string | undefined {
  switch (fillWith) {
    case OWN.spanId:
      return real.context.spanId.toLowerCase();
    case OWN.parentId:
      return real.span.parentSpanContext?.spanId.toLowerCase();
    case OWN.traceId:
      return real.traceId;
    case OWN.start:
      return epochText(real.span.startTime);
    case OWN.end:
      return epochText(real.span.endTime);
    default: {
      const value = real.attributes[fillWith];
      if (typeof value === 'string')
        return value.length > LIMITS.copiedStringChars ? undefined : JSON.stringify(value);
      return typeof value === 'number' && Number.isFinite(value) ? JSON.stringify(value) : undefined;
    }
  }
}

/** A time as the document writes it; `undefined` for one JSON cannot write as a number (NaN). */
function epochText(time: HrTime): string | undefined {
  const seconds = toEpochSeconds(time);
  return Number.isFinite(seconds) ? String(seconds) : undefined;
}

/**
 * Everything but the attributes that decides the document: kind, parent, end, status and name. A
 * short key on purpose: made for every span, after a freeze, and looked up in a map.
 */
function headKeyOf(
  span: ReadableSpan,
  parentIsValid: boolean,
  parentIsRemote: boolean,
  hasEnd: boolean,
): string {
  const status = span.status;
  const message = status?.message ?? '';
  return `${span.kind}|${parentIsValid ? (parentIsRemote ? 2 : 1) : 0}|${hasEnd ? 1 : 0}|${status?.code}|${message.length}:${message}|${span.name ?? ''}`;
}

/** The attribute keys and types of a span, in order, as a shape keeps them. */
function attributeListOf(attributes: Attributes): { keys: string[]; types: string } {
  const keys: string[] = [];
  let types = '';
  for (const key in attributes) {
    keys.push(key);
    types += typeCode(attributes[key]);
  }
  return { keys, types };
}

/** Whether `attributes` has the shape's keys, in its order, with values of its types. */
function hasAttributesOf(shape: Shape, attributes: Attributes): boolean {
  const { keys, types } = shape;
  let index = 0;
  for (const key in attributes) {
    if (keys[index] !== key || types[index] !== typeCode(attributes[key])) return false;
    index += 1;
  }
  return index === keys.length;
}

function typeCode(value: AttributeValue | undefined): string {
  if (value === null) return 'z';
  if (Array.isArray(value)) return 'a';
  return (typeof value).charAt(0);
}

/**
 * The attributes a template copies: not read by the translation, a string or a number (what it
 * copies as it is), and not one of the keys the annotations step reads itself.
 */
function holesOf(attributes: Attributes, reads: ReadonlySet<string>): ReadonlySet<string> {
  const holes = new Set<string>();
  for (const key in attributes) {
    const type = typeof attributes[key];
    if (reads.has(key) || (type !== 'string' && type !== 'number')) continue;
    if (key === ANNOTATIONS_ATTRIBUTE || key === 'enduser.id' || key.startsWith(METADATA_ATTRIBUTE_PREFIX))
      continue;
    holes.add(key);
  }
  return holes;
}

/** The values of every attribute but the holes, in an unambiguous form; `undefined`: not encodable. */
function valuesKeyOf(attributes: Attributes, holes: ReadonlySet<string>): string | undefined {
  let key = '';
  for (const name in attributes) {
    if (holes.has(name)) continue;
    const value = attributes[name];
    if (typeof value === 'string') key += `${value.length}:${value}`;
    else if (value === undefined || value === null || typeof value !== 'object') key += `${String(value)};`;
    else {
      const json = JSON.stringify(value);
      if (json === undefined) return undefined;
      key += `${json.length}:${json}`;
    }
  }
  return key.length > LIMITS.valuesKeyChars ? undefined : key;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const key of a) if (!b.has(key)) return false;
  return true;
}

function readsAny(reads: ReadonlySet<string>, keys: ReadonlySet<string>): boolean {
  for (const key of keys) if (reads.has(key)) return true;
  return false;
}

function isZero(time: HrTime): boolean {
  return time[0] === 0 && time[1] === 0;
}
