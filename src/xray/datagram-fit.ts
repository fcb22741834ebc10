import { truncate } from './attribute-reader.js';
import type { XRaySegmentDocument } from './segment-types.js';

/** The line the X-Ray daemon expects before every document in a datagram. */
export const DAEMON_HEADER = '{"format":"json","version":1}\n';

/**
 * Largest datagram we send. The daemon reads datagrams of up to 64 KB and IPv4 carries at most
 * 65,507 bytes of UDP payload; 64,000 stays under both.
 */
export const MAX_DATAGRAM_BYTES = 64_000;

/** Bytes of the header line, taken from every datagram's budget. */
const HEADER_BYTE_LENGTH = Buffer.byteLength(DAEMON_HEADER);

/** Keys whose values identify the document: never shortened. */
const IDENTITY_KEYS = new Set(['name', 'id', 'trace_id', 'parent_id', 'type', 'namespace', 'origin']);

/** Successive caps on string length and array length, gentle first. */
const STRING_CAPS = [4096, 1024, 256, 64];
const ARRAY_CAPS = [256, 64, 16, 4];
const TRUNCATION_MARK = '...';

/** What fitting one document to datagrams did. */
export interface FitResult {
  /** Serialised documents, each fitting in a datagram with the header. */
  payloads: string[];
  /** How many strings or arrays were shortened. */
  truncatedValues: number;
  /** How many embedded subsegments were sent as independent documents. */
  splitSubsegments: number;
  /** Why a document (or a split-out piece of it) could not be made to fit, if one could not. */
  dropped: string[];
}

/**
 * Makes a document fit in daemon datagrams of `maxBytes` (header included). In order, until
 * it fits:
 * 1. shorten over-long values (strings over 4096 characters, arrays over 256 items) outside the
 *    identity fields;
 * 2. send embedded `subsegments` as independent documents (`type`, `parent_id`, `trace_id` set);
 * 3. shorten values further (down to 64 characters / 4 items);
 * 4. give up metadata, then stack frames, then links, then annotations;
 * 5. drop the document, reporting why.
 * Never throws: a document that cannot be serialised is dropped the same way.
 */
export function fitToDatagram(document: XRaySegmentDocument, maxBytes = MAX_DATAGRAM_BYTES): FitResult {
  const result: FitResult = { payloads: [], truncatedValues: 0, splitSubsegments: 0, dropped: [] };
  fitInto(document, maxBytes - HEADER_BYTE_LENGTH, result);
  return result;
}

function fitInto(document: XRaySegmentDocument, budget: number, result: FitResult): void {
  const first = serialize(document);
  if (first === undefined) {
    result.dropped.push(`document ${document.id} could not be serialised`);
    return;
  }
  if (fits(first, budget)) {
    result.payloads.push(first);
    return;
  }

  const counter = { count: 0 };
  let current = shortenDocument(document, STRING_CAPS[0], ARRAY_CAPS[0], counter);

  if (current.subsegments !== undefined && current.subsegments.length > 0) {
    const { subsegments, ...parent } = current;
    result.splitSubsegments += subsegments.length;
    result.truncatedValues += counter.count;
    fitInto(parent, budget, result);
    for (const child of subsegments) {
      fitInto(
        { ...child, type: 'subsegment', parent_id: parent.id, trace_id: parent.trace_id },
        budget,
        result,
      );
    }
    return;
  }

  for (let step = 0; ; step += 1) {
    const payload = serialize(current);
    if (payload !== undefined && fits(payload, budget)) {
      result.truncatedValues += counter.count;
      result.payloads.push(payload);
      return;
    }
    const next = reduce(current, step, counter);
    if (next === undefined) {
      result.dropped.push(`document ${document.id} exceeds ${budget} bytes even when reduced`);
      return;
    }
    current = next;
  }
}

/** The document one step smaller, or `undefined` when nothing is left to give up. */
function reduce(
  document: XRaySegmentDocument,
  step: number,
  counter: { count: number },
): XRaySegmentDocument | undefined {
  const capStep = step + 1;
  if (capStep < STRING_CAPS.length) {
    return shortenDocument(document, STRING_CAPS[capStep], ARRAY_CAPS[capStep], counter);
  }
  const reduced = { ...document };
  switch (capStep - STRING_CAPS.length) {
    case 0:
      if (reduced.metadata === undefined) return reduce(document, step + 1, counter);
      delete reduced.metadata;
      break;
    case 1:
      if (!reduced.cause?.exceptions?.some((exception) => exception.stack !== undefined)) {
        return reduce(document, step + 1, counter);
      }
      reduced.cause = {
        ...reduced.cause,
        exceptions: reduced.cause.exceptions.map(({ stack, ...exception }) => ({
          ...exception,
          ...(stack === undefined ? {} : { truncated: (exception.truncated ?? 0) + stack.length }),
        })),
      };
      break;
    case 2:
      if (reduced.links === undefined) return reduce(document, step + 1, counter);
      delete reduced.links;
      break;
    case 3:
      if (reduced.annotations === undefined) return reduce(document, step + 1, counter);
      delete reduced.annotations;
      break;
    default:
      return undefined;
  }
  counter.count += 1;
  return reduced;
}

/**
 * A deep copy of a document with strings and arrays cut to the caps. The identity fields of the
 * document (and of its embedded subsegments) are kept whole; embedded subsegments are never cut
 * away, only split out.
 */
function shortenDocument(
  document: XRaySegmentDocument,
  stringCap: number,
  arrayCap: number,
  counter: { count: number },
): XRaySegmentDocument {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    if (IDENTITY_KEYS.has(key)) copy[key] = value;
    else if (key === 'subsegments' && Array.isArray(value)) {
      copy[key] = value.map((child: XRaySegmentDocument) =>
        shortenDocument(child, stringCap, arrayCap, counter),
      );
    } else copy[key] = shorten(value, stringCap, arrayCap, counter);
  }
  return copy as unknown as XRaySegmentDocument;
}

function shorten(value: unknown, stringCap: number, arrayCap: number, counter: { count: number }): unknown {
  if (typeof value === 'string') {
    if (value.length <= stringCap) return value;
    counter.count += 1;
    return truncate(value, stringCap - TRUNCATION_MARK.length) + TRUNCATION_MARK;
  }
  if (Array.isArray(value)) {
    if (value.length > arrayCap) counter.count += 1;
    return value.slice(0, arrayCap).map((item) => shorten(item, stringCap, arrayCap, counter));
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value))
      copy[key] = shorten(child, stringCap, arrayCap, counter);
    return copy;
  }
  return value;
}

function serialize(document: XRaySegmentDocument): string | undefined {
  try {
    return JSON.stringify(document);
  } catch {
    // A metadata value that JSON cannot hold (BigInt, a cycle): the caller drops the document.
    return undefined;
  }
}

function fits(payload: string, budget: number): boolean {
  // Cheap check first: UTF-8 takes at least one byte per UTF-16 unit and at most three.
  return payload.length * 3 <= budget || Buffer.byteLength(payload) <= budget;
}
