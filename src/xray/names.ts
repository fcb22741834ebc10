import { SpanKind } from '@opentelemetry/api';
import type { AttributeReader } from './attribute-reader.js';

/** X-Ray's limit on a segment or subsegment name. */
export const MAX_NAME_LENGTH = 200;

/** The collector's fallback when nothing of a name survives sanitising. */
export const DEFAULT_SEGMENT_NAME = 'span';

/**
 * X-Ray names may hold Unicode letters, numbers and whitespace and `_ . : / % & # = + - @`
 * (xray-api-segmentdocuments: "name"). The docs also list `\`, but neither the published schema's
 * pattern nor the collector's filter allows it, so it goes too.
 */
const DISALLOWED = /[^\p{L}\p{N}\p{Z}_.:/%&#=+\-@]/gu;

/**
 * Letters and numbers that today's `\p{L}`/`\p{N}` know but the published schema's pattern (a
 * Unicode 8 snapshot of the same classes, BMP only) does not: removed too, so every name we write
 * validates against the schema. `test/unit/xray/names.test.ts` checks every BMP code point.
 */
const NEWER_THAN_SCHEMA = new RegExp(
  '[\\u0560\\u0588\\u05ef\\u0860-\\u086a\\u0870-\\u0887\\u0889-\\u088f\\u08b5-\\u08c9\\u09fc' +
    '\\u0c5c\\u0c5d\\u0c80\\u0cdc\\u0cdd\\u0d04\\u0d54-\\u0d56\\u0d58-\\u0d5e\\u0d76-\\u0d78' +
    '\\u0e86\\u0e89\\u0e8c\\u0e8e-\\u0e93\\u0e98\\u0ea0\\u0ea8\\u0ea9\\u0eac\\u170d\\u171f\\u1878' +
    '\\u1b4c\\u1c80-\\u1c8f\\u1c90-\\u1cbf\\u1cf2\\u1cf3\\u1cfa\\u2c2f\\u2c5f\\u312e\\u312f' +
    '\\u31bb-\\u31bf\\u4db6-\\u4dbf\\u9fd6-\\u9fff\\ua7ae\\ua7af\\ua7b8-\\ua7f6\\ua8fe' +
    '\\uab66-\\uab6f]',
  'gu',
);

/** A name of only the ASCII characters `DISALLOWED` lets through (letters, digits, space, symbols). */
const ALLOWED_ASCII = /^[A-Za-z0-9 _.:/%&#=+\-@]+$/;

/** Code points above the BMP: the schema's pattern lists none, so no astral letter validates. */
const ASTRAL = /[\u{10000}-\u{10ffff}]/gu;

/**
 * Makes `name` a valid X-Ray segment name: drops every character X-Ray does not allow, cuts the
 * result to 200 code points, and falls back to `"span"` when nothing is left (as the collector
 * does).
 */
export function sanitizeSegmentName(name: string): string {
  // Most names are plain ASCII, all allowed: kept as they are without running (and, in a fresh
  // process, compiling: ~0.5 ms on the first export) the Unicode-class expressions below.
  if (name.length <= MAX_NAME_LENGTH && name !== '' && ALLOWED_ASCII.test(name)) return name;
  const kept = name.replace(DISALLOWED, '').replace(NEWER_THAN_SCHEMA, '').replace(ASTRAL, '');
  // Everything left is in the BMP, so UTF-16 length is the code point count the schema counts.
  const cut = kept.length > MAX_NAME_LENGTH ? kept.slice(0, MAX_NAME_LENGTH) : kept;
  return cut === '' ? DEFAULT_SEGMENT_NAME : cut;
}

/** What `chooseSegmentName` needs to know about the span. */
export interface NameSource {
  spanName: string;
  kind: SpanKind;
  /** Whether the span becomes a segment (not a subsegment). */
  isSegment: boolean;
  isAwsSdk: boolean;
  attributes: AttributeReader;
  resource: AttributeReader;
}

/**
 * Picks the (sanitised) name of a segment or subsegment the way the collector's exporter does:
 * X-Ray names are service names, so a span is named after the service it represents, and its
 * own name is the last resort.
 *
 * Order: `aws.local.service` (server) / `aws.remote.service` (client, producer, consumer),
 * `peer.service`, `aws.service`, `<db name>@<db host>`, the resource's `service.name` (server
 * spans and the other spans that become segments), `rpc.service`, the HTTP host
 * (`http.host`, `net.peer.name`, `server.address`), then the span name.
 */
export function chooseSegmentName(source: NameSource): string {
  const raw = rawSegmentName(source);
  let name = sanitizedNames.get(raw);
  if (name === undefined) {
    name = sanitizeSegmentName(raw);
    rememberName(raw, name);
  }
  return name;
}

/**
 * Names already sanitised. The same few names (the service, the hosts it calls) recur in every
 * invocation, and the Unicode-class regular expressions are costly to run in a process that sat
 * frozen between invocations; a lookup is not.
 */
const sanitizedNames = new Map<string, string>();
/** Bounds the memory of many distinct names (e.g. span names holding IDs): forgotten in bulk. */
const MAX_REMEMBERED_NAMES = 256;

function rememberName(raw: string, name: string): void {
  // Over-long names are rare and would only hold memory.
  if (raw.length > MAX_NAME_LENGTH * 2) return;
  if (sanitizedNames.size >= MAX_REMEMBERED_NAMES) sanitizedNames.clear();
  sanitizedNames.set(raw, name);
}

function rawSegmentName(source: NameSource): string {
  const { kind, attributes: attrs } = source;
  const isDependency = kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER || kind === SpanKind.CONSUMER;

  if (kind === SpanKind.SERVER) {
    const local = attrs.string('aws.local.service');
    if (local !== undefined) return local;
  }
  if (isDependency) {
    const remote = attrs.string('aws.remote.service');
    if (remote !== undefined) return source.isAwsSdk ? remote.replace(/^(AWS\.SDK\.|AWS::)/, '') : remote;
  }

  const named = attrs.string('peer.service', 'aws.service');
  if (named !== undefined) return named;

  // An AWS SDK call is the service it called ("DynamoDB"), as the X-Ray SDK names it, though the
  // SDK instrumentation also sets `db.namespace` (the table) on DynamoDB calls.
  if (isDependency && source.isAwsSdk) {
    const service = attrs.string('rpc.service');
    if (service !== undefined) return service;
  }

  const database = attrs.string('db.name', 'db.namespace');
  if (database !== undefined) {
    const host = databaseHost(attrs);
    return host === undefined ? database : `${database}@${host}`;
  }

  // A segment stands for this service; a client span made a root (remote parent) still names
  // the service it called, like the collector's subsegment would.
  if (
    kind === SpanKind.SERVER ||
    (source.isSegment && kind !== SpanKind.CLIENT && kind !== SpanKind.PRODUCER)
  ) {
    const service = source.resource.string('service.name');
    if (service !== undefined) return service;
  }

  return (
    attrs.string('rpc.service', 'http.host', 'net.peer.name') ??
    (kind === SpanKind.SERVER ? undefined : attrs.string('server.address')) ??
    source.spanName
  );
}

/** The database host: from `db.connection_string` as the collector reads it, else the peer. */
function databaseHost(attrs: AttributeReader): string | undefined {
  const connection = attrs.string('db.connection_string');
  if (connection !== undefined) {
    try {
      const host = new URL(connection.replace(/^jdbc:/, '')).hostname;
      if (host !== '') return host;
    } catch {
      // Not a URL (e.g. "Server=...;Database=..."): fall through to the peer attributes.
    }
  }
  return attrs.string('server.address', 'net.peer.name');
}
