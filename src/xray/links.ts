import type { Link } from '@opentelemetry/api';
import { isValidSpanId, toXRayTraceId } from './ids.js';
import type { XRayLink } from './segment-types.js';

/**
 * Span links as the collector's exporter writes them: `{trace_id, id, attributes}` with the
 * trace ID in X-Ray form. X-Ray uses them to connect, for example, an SQS batch consumer to
 * each producer's trace. The published schema does not list `links`, but it does not forbid
 * extra properties either. Links with an invalid ID are left out (the collector fails the whole
 * span instead).
 */
export function makeLinks(links: readonly Link[]): XRayLink[] | undefined {
  const result: XRayLink[] = [];
  for (const link of links) {
    const context = link.context;
    const traceId = toXRayTraceId(context?.traceId ?? '');
    if (traceId === undefined || !isValidSpanId(context.spanId)) continue;
    const entry: XRayLink = { trace_id: traceId, id: context.spanId.toLowerCase() };
    const attributes = Object.entries(link.attributes ?? {}).filter(([, value]) => value != null);
    if (attributes.length > 0) entry.attributes = Object.fromEntries(attributes);
    result.push(entry);
  }
  return result.length > 0 ? result : undefined;
}
