import type { XRaySegmentDocument } from '../../xray/segment-types.js';
import { rootsOf, type StoredTrace, summarize } from './trace-store.js';

/** One row of a trace's timeline: a document in tree order, placed relative to the trace's start. */
export interface WaterfallRow {
  id: string;
  name: string;
  depth: number;
  /** `segment`, or the subsegment's namespace (`remote`, `aws`) or `local`. */
  kind: string;
  offsetMs: number;
  /** undefined while in progress. */
  durationMs: number | undefined;
  fault: boolean;
  error: boolean;
  throttle: boolean;
  /** One line of what it did: the http, sql or aws call. */
  label: string;
  document: XRaySegmentDocument;
}

/** The trace's documents, depth first, children by start time, as the X-Ray console's timeline shows. */
export function waterfallRows(trace: StoredTrace): WaterfallRow[] {
  const start = summarize(trace).startTime;
  const children = new Map<string, XRaySegmentDocument[]>();
  for (const document of trace.documents.values()) {
    if (document.parent_id === undefined) continue;
    children.set(document.parent_id, [...(children.get(document.parent_id) ?? []), document]);
  }
  const rows: WaterfallRow[] = [];
  const visit = (document: XRaySegmentDocument, depth: number) => {
    rows.push({
      id: document.id,
      name: document.name,
      depth,
      kind: document.type === undefined ? 'segment' : (document.namespace ?? 'local'),
      offsetMs: (document.start_time - start) * 1000,
      durationMs:
        document.end_time === undefined ? undefined : (document.end_time - document.start_time) * 1000,
      fault: document.fault === true,
      error: document.error === true,
      throttle: document.throttle === true,
      label: labelOf(document),
      document,
    });
    const kids = (children.get(document.id) ?? []).sort((a, b) => a.start_time - b.start_time);
    for (const kid of kids) visit(kid, depth + 1);
  };
  for (const root of rootsOf(trace)) visit(root, 0);
  return rows;
}

function labelOf(document: XRaySegmentDocument): string {
  const { http, sql, aws } = document;
  if (sql?.sanitized_query !== undefined) return `${sql.database_type ?? 'sql'}: ${sql.sanitized_query}`;
  if (aws?.operation !== undefined && document.type === 'subsegment') {
    return `${aws.operation} ${aws.queue_url ?? aws.table_name ?? aws.topic_arn ?? ''}`.trim();
  }
  if (http?.request !== undefined) {
    const status = http.response?.status;
    return `${http.request.method ?? ''} ${http.request.url ?? ''}${status !== undefined ? ` ${status}` : ''}`.trim();
  }
  return '';
}
