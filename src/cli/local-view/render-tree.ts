import type { XRaySegmentDocument } from '../../xray/segment-types.js';
import { rootsOf, type StoredTrace, summarize } from './trace-store.js';

/** How to render. */
export interface RenderOptions {
  /** ANSI colours (for a terminal). Default false. */
  color?: boolean;
}

const STYLES = { dim: [2, 22], bold: [1, 22], red: [31, 39], yellow: [33, 39], cyan: [36, 39] } as const;
type Style = keyof typeof STYLES;

/**
 * A trace as a tree for the terminal: each segment and subsegment with its duration and offset
 * from the trace's start, then the X-Ray blocks that matter when reading a trace (http, sql, aws,
 * fault/error/throttle with the cause, annotations).
 *
 * @example
 * console.log(renderTrace(store.get(traceId), { color: process.stdout.isTTY }));
 */
export function renderTrace(trace: StoredTrace, options: RenderOptions = {}): string {
  const paint = (style: Style, text: string) =>
    options.color ? `\u001b[${STYLES[style][0]}m${text}\u001b[${STYLES[style][1]}m` : text;
  const summary = summarize(trace);
  const children = new Map<string, XRaySegmentDocument[]>();
  for (const document of trace.documents.values()) {
    if (document.parent_id === undefined) continue;
    const siblings = children.get(document.parent_id) ?? [];
    siblings.push(document);
    children.set(document.parent_id, siblings);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => a.start_time - b.start_time);

  const lines = [
    paint(
      'bold',
      `trace ${trace.traceId}  ${summary.name}${summary.operation ? ` ${summary.operation}` : ''}  ${ms(summary.durationMs)}`,
    ) + paint('dim', `  (${summary.segments} segments, ${summary.documents} documents)`),
  ];

  const visit = (document: XRaySegmentDocument, prefix: string, isLast: boolean, isRoot: boolean) => {
    const branch = isRoot ? '' : isLast ? '└─ ' : '├─ ';
    const continuation = isRoot ? '' : isLast ? '   ' : '│  ';
    const duration =
      document.end_time === undefined ? 'in progress' : ms((document.end_time - document.start_time) * 1000);
    const offset = ms((document.start_time - summary.startTime) * 1000);
    const kind = document.type === 'subsegment' ? (document.namespace ?? '') : (document.origin ?? 'segment');
    const flags = [
      document.fault ? paint('red', 'FAULT') : '',
      document.error ? paint('yellow', 'ERROR') : '',
      document.throttle ? paint('yellow', 'THROTTLE') : '',
    ].filter(Boolean);
    lines.push(
      `${prefix}${branch}${paint(document.type === undefined ? 'bold' : 'cyan', document.name)}` +
        `${kind ? paint('dim', ` [${kind}]`) : ''}  ${duration}${paint('dim', ` @+${offset}`)}` +
        `${flags.length > 0 ? `  ${flags.join(' ')}` : ''}`,
    );
    const kids = children.get(document.id) ?? [];
    const detailPrefix = `${prefix}${continuation}${kids.length > 0 ? '│  ' : '   '}`;
    for (const detail of details(document)) lines.push(paint('dim', `${detailPrefix}${detail}`));
    kids.forEach((kid, index) => {
      visit(kid, `${prefix}${continuation}`, index === kids.length - 1, false);
    });
  };
  for (const root of rootsOf(trace)) {
    if (root.parent_id !== undefined) {
      lines.push(
        paint('dim', `(parent ${root.parent_id}: Lambda's own segment, sent by Lambda, not the function)`),
      );
    }
    visit(root, '', true, true);
  }
  return lines.join('\n');
}

/** The lines under a document: its http, sql and aws blocks, its cause and its annotations. */
function details(document: XRaySegmentDocument): string[] {
  const out: string[] = [];
  const { http, sql, aws, cause, annotations } = document;
  if (http?.request !== undefined || http?.response !== undefined) {
    const status = http.response?.status !== undefined ? ` -> ${http.response.status}` : '';
    out.push(`http ${http.request?.method ?? ''} ${http.request?.url ?? ''}${status}`.replace(/\s+/g, ' '));
  }
  if (sql !== undefined) {
    const query = sql.sanitized_query?.replace(/\s+/g, ' ');
    out.push(
      `sql ${[sql.database_type, sql.url ?? sql.connection_string, sql.user].filter(Boolean).join(' ')}` +
        (query ? `: ${truncate(query, 100)}` : ''),
    );
  }
  if (aws !== undefined && document.type === 'subsegment') {
    const target =
      aws.queue_url ?? aws.table_name ?? aws.table_names?.join(',') ?? aws.topic_arn ?? aws.function_name;
    const parts = [aws.operation, target, aws.region, aws.request_id && `request ${aws.request_id}`];
    if (parts.some(Boolean)) out.push(`aws ${parts.filter(Boolean).join(' ')}`);
  }
  for (const exception of cause?.exceptions ?? []) {
    out.push(`cause ${exception.type ?? 'Error'}: ${truncate(exception.message ?? '', 120)}`);
  }
  if (annotations !== undefined && Object.keys(annotations).length > 0) {
    out.push(
      `annotations ${Object.entries(annotations)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ')}`,
    );
  }
  return out;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
