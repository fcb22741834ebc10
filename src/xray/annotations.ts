import type { AttributeValue } from '@opentelemetry/api';
import { isSensitiveName } from '../lambda/triggers/redact.js';
import { type AttributeReader, truncate } from './attribute-reader.js';
import type { XRayAnnotationValue } from './segment-types.js';
import { withoutPassword } from './sql-block.js';

/** Span attribute listing (string array) the keys of the span's attributes to index. */
export const ANNOTATIONS_ATTRIBUTE = 'aws.xray.annotations';

/** Prefix of span attributes holding a JSON object for the metadata namespace named after it. */
export const METADATA_ATTRIBUTE_PREFIX = 'aws.xray.metadata.';

/** Namespace of the metadata that has no namespace of its own. */
export const DEFAULT_METADATA_NAMESPACE = 'default';

/** Prefix the collector gives resource attributes in a segment's metadata and annotations. */
const RESOURCE_PREFIX = 'otel.resource.';

/** The schema's limits: keys `^[a-zA-Z0-9_]{1,500}$`, string values up to 1000 characters. */
const MAX_ANNOTATION_KEY = 500;
const MAX_ANNOTATION_STRING = 1000;

/** What `makeAnnotations` needs. */
export interface AnnotationSource {
  /** The span's attributes; those already turned into segment fields are left out. */
  attributes: AttributeReader;
  resource: AttributeReader;
  /** Segments carry the resource attributes (as `otel.resource.<key>`), subsegments do not. */
  includeResource: boolean;
  indexedAttributes: readonly string[];
  indexAllAttributes: boolean;
  /**
   * Where the resource's split (see {@link ResourceEntries}) is kept between documents of the
   * same resource; without it, the split is made for each document.
   */
  resourceCache?: ResourceEntriesCache;
}

/**
 * The resource's attributes as a segment carries them (`otel.resource.<key>`), split between
 * annotations and metadata. Both objects are shared by every segment of the resource: they are
 * frozen and only ever copied from.
 */
export interface ResourceEntries {
  readonly annotations: Readonly<Record<string, XRayAnnotationValue>>;
  readonly defaults: Readonly<Record<string, unknown>>;
}

/**
 * Keeps the split of one resource for one choice of indexed attributes: a different list (or
 * `indexAllAttributes`) replaces it.
 */
export class ResourceEntriesCache {
  private indexedAttributes: readonly string[] = [];
  private indexAllAttributes = false;
  private entries: ResourceEntries | undefined;

  /** The split for these options, made by `split` unless the last one was for the same options. */
  get(
    indexedAttributes: readonly string[],
    indexAllAttributes: boolean,
    split: () => ResourceEntries,
  ): ResourceEntries {
    if (
      this.entries === undefined ||
      this.indexAllAttributes !== indexAllAttributes ||
      !sameList(this.indexedAttributes, indexedAttributes)
    ) {
      this.entries = split();
      // A copy: the caller's array may change after this call.
      this.indexedAttributes = [...indexedAttributes];
      this.indexAllAttributes = indexAllAttributes;
    }
    return this.entries;
  }
}

function sameList(cached: readonly string[], given: readonly string[]): boolean {
  if (cached.length !== given.length) return false;
  for (let index = 0; index < cached.length; index += 1) {
    if (cached[index] !== given[index]) return false;
  }
  return true;
}

/** The annotations, metadata and `user` of a document. */
export interface AnnotationsAndMetadata {
  user?: string;
  annotations?: Record<string, XRayAnnotationValue>;
  metadata?: Record<string, Record<string, unknown>>;
}

/**
 * Splits the span's remaining attributes between annotations (indexed, searchable) and metadata,
 * as the collector's exporter does:
 *
 * - `enduser.id` becomes `user`;
 * - an attribute is an annotation when it is named in `indexedAttributes` (even one already used
 *   for an `http`/`aws`/`sql` field), in the span's `aws.xray.annotations` list, or when
 *   `indexAllAttributes` is set; its key is sanitised to `[A-Za-z0-9_]` (others become `_`) and
 *   only string, finite number and boolean values qualify;
 * - `aws.xray.metadata.<namespace>` attributes holding a JSON object fill that namespace
 *   (`default` merges into the default one);
 * - everything else, including indexed values that cannot be annotations, goes to
 *   `metadata.default`, and on segments each resource attribute as `otel.resource.<key>`.
 */
export function makeAnnotations(source: AnnotationSource): AnnotationsAndMetadata {
  const { attributes: attrs } = source;
  const result: AnnotationsAndMetadata = {};
  const metadata: Record<string, Record<string, unknown>> = {};

  const user = attrs.string('enduser.id');
  if (user !== undefined) result.user = truncate(user, 250);

  const spanList = attrs.strings(ANNOTATIONS_ATTRIBUTE);
  const indexed = new Set(source.indexAllAttributes ? [] : source.indexedAttributes);
  for (const key of spanList ?? []) indexed.add(key);
  const isIndexed = (key: string) => source.indexAllAttributes || indexed.has(key);

  // The resource's entries come first, as the collector writes them; copies, so the span's own
  // entries can be added (and override, in place) as if written one by one after them.
  const resource = source.includeResource ? resourceEntriesOf(source, spanList, isIndexed) : undefined;
  const annotations: Record<string, XRayAnnotationValue> = { ...resource?.annotations };
  const defaults: Record<string, unknown> = { ...resource?.defaults };

  const annotate = (key: string, value: AttributeValue) => {
    const annotationKey = annotationKeyOf(key);
    const annotationValue = annotationValueOf(value);
    if (annotationKey !== undefined && annotationValue !== undefined)
      annotations[annotationKey] = annotationValue;
    else defaults[key] = value;
  };

  for (const [key, attribute] of Object.entries(attrs.attributes)) {
    if (
      attribute === undefined ||
      attribute === null ||
      key === ANNOTATIONS_ATTRIBUTE ||
      key === 'enduser.id'
    )
      continue;
    // Copied as they are, unless they may hold a secret; whatever instrumentation set them.
    if (isSecretAttribute(key)) continue;
    const value = key === CONNECTION_STRING ? connectionWithoutPassword(attrs, attribute) : attribute;
    // A listed key is indexed even when a block already used it (the collector's rule for
    // `indexed_attributes`, extended here to the span's own list).
    if (attrs.consumed.has(key) && !indexed.has(key)) continue;
    if (isIndexed(key)) {
      annotate(key, value);
    } else if (key.startsWith(METADATA_ATTRIBUTE_PREFIX) && typeof value === 'string') {
      addMetadataNamespace(key.slice(METADATA_ATTRIBUTE_PREFIX.length), key, value, metadata, defaults);
    } else {
      defaults[key] = value;
    }
  }

  if (Object.keys(annotations).length > 0) result.annotations = annotations;
  if (Object.keys(defaults).length > 0) {
    const namespaced = metadata[DEFAULT_METADATA_NAMESPACE];
    // `defaults` is this document's own object: used as it is unless merged with a namespace.
    metadata[DEFAULT_METADATA_NAMESPACE] =
      namespaced === undefined ? defaults : { ...defaults, ...namespaced };
  }
  if (Object.keys(metadata).length > 0) result.metadata = metadata;
  return result;
}

const CONNECTION_STRING = 'db.connection_string';
const REQUEST_HEADER = 'http.request.header.';
const RESPONSE_HEADER = 'http.response.header.';

/**
 * Attributes that never go into a document, as annotation or metadata: bound SQL values
 * (`db.query.parameter.<key>`, instrumentation-pg's `db.postgresql.values`) and captured headers
 * that carry credentials (`http.request.header.authorization`, `...cookie`, `...x-api-key`,
 * `http.response.header.set-cookie`: the names query strings are redacted by).
 */
export function isSecretAttribute(key: string): boolean {
  if (key.startsWith('db.query.parameter.') || key === 'db.postgresql.values') return true;
  if (key.startsWith(REQUEST_HEADER)) return isSensitiveName(key.slice(REQUEST_HEADER.length));
  if (key.startsWith(RESPONSE_HEADER)) return isSensitiveName(key.slice(RESPONSE_HEADER.length));
  return false;
}

/**
 * A connection string that no block used (a database other than SQL), without its password. Read
 * through the reader, so a segment template never copies it unredacted: it is part of the shape.
 */
function connectionWithoutPassword(attrs: AttributeReader, value: AttributeValue): AttributeValue {
  const connection = attrs.string(CONNECTION_STRING);
  return connection === undefined ? value : withoutPassword(connection);
}

/**
 * The resource's split, from the cache when the span's own `aws.xray.annotations` list names no
 * resource key (then the split depends on the options alone).
 */
function resourceEntriesOf(
  source: AnnotationSource,
  spanList: readonly string[] | undefined,
  isIndexed: (key: string) => boolean,
): ResourceEntries {
  const split = () => splitResource(source.resource.attributes, isIndexed);
  const namesResourceKey = spanList?.some((key) => key.startsWith(RESOURCE_PREFIX)) === true;
  if (source.resourceCache === undefined || namesResourceKey) return split();
  return source.resourceCache.get(source.indexedAttributes, source.indexAllAttributes, split);
}

/** Each resource attribute as `otel.resource.<key>`: an annotation when indexed, else metadata. */
function splitResource(
  attributes: Readonly<Record<string, AttributeValue | undefined>>,
  isIndexed: (key: string) => boolean,
): ResourceEntries {
  const annotations: Record<string, XRayAnnotationValue> = {};
  const defaults: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    const prefixed = RESOURCE_PREFIX + key;
    const annotationKey = isIndexed(prefixed) ? annotationKeyOf(prefixed) : undefined;
    const annotationValue = annotationKey === undefined ? undefined : annotationValueOf(value);
    if (annotationKey !== undefined && annotationValue !== undefined)
      annotations[annotationKey] = annotationValue;
    else defaults[prefixed] = value;
  }
  return { annotations: Object.freeze(annotations), defaults: Object.freeze(defaults) };
}

/** A JSON object goes to its namespace; anything else stays, as it was, in the default one. */
function addMetadataNamespace(
  namespace: string,
  key: string,
  json: string,
  metadata: Record<string, Record<string, unknown>>,
  defaults: Record<string, unknown>,
): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || namespace === '') {
    defaults[key] = json;
  } else if (namespace.toLowerCase() === DEFAULT_METADATA_NAMESPACE) {
    metadata[DEFAULT_METADATA_NAMESPACE] = { ...metadata[DEFAULT_METADATA_NAMESPACE], ...parsed };
  } else {
    metadata[namespace] = parsed as Record<string, unknown>;
  }
}

/**
 * Annotation keys already worked out: the same few keys (the indexed list) come back on every
 * span. Bounded, as `index_all_attributes` with attribute keys made at run time could grow it.
 */
const annotationKeys = new Map<string, string | undefined>();
const MAX_CACHED_ANNOTATION_KEYS = 512;

/** An X-Ray annotation key: every character outside `[A-Za-z0-9_]` becomes `_`, cut to 500. */
export function annotationKeyOf(key: string): string | undefined {
  const cached = annotationKeys.get(key);
  if (cached !== undefined || annotationKeys.has(key)) return cached;
  const fixed = key.replace(/[^A-Za-z0-9_]/g, '_').slice(0, MAX_ANNOTATION_KEY);
  const annotationKey = fixed === '' ? undefined : fixed;
  if (annotationKeys.size < MAX_CACHED_ANNOTATION_KEYS) annotationKeys.set(key, annotationKey);
  return annotationKey;
}

/** The value as an annotation (string cut to 1000, finite number, boolean), or `undefined`. */
function annotationValueOf(value: AttributeValue): XRayAnnotationValue | undefined {
  if (typeof value === 'string') return truncate(value, MAX_ANNOTATION_STRING);
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  return undefined;
}
