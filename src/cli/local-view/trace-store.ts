import type { XRaySegmentDocument } from '../../xray/segment-types.js';

/** One trace as received: its documents by ID, subsegments embedded in segments flattened out. */
export interface StoredTrace {
  readonly traceId: string;
  readonly documents: Map<string, XRaySegmentDocument>;
  /** When the last document arrived (ms since the epoch). */
  receivedAt: number;
}

/** A trace's one-line summary, for the list in the terminal and the web page. */
export interface TraceSummary {
  traceId: string;
  /** The root segment's name (the first service the trace entered). */
  name: string;
  /** What the root was asked to do: `GET /orders/42`, or the queue, or ''. */
  operation: string;
  startTime: number;
  durationMs: number;
  documents: number;
  segments: number;
  fault: boolean;
  error: boolean;
  receivedAt: number;
}

type Listener = (traceId: string) => void;

/**
 * Keeps the most recent traces in memory, as the X-Ray console would show them: documents grouped
 * by trace ID, a later document with the same ID (an in-progress segment completed) replacing the
 * earlier one.
 */
export class TraceStore {
  private readonly traces = new Map<string, StoredTrace>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly maxTraces = 200) {}

  /** Adds a document (and any subsegments embedded in it); tells listeners which trace changed. */
  add(document: XRaySegmentDocument): void {
    if (typeof document?.trace_id !== 'string' || typeof document.id !== 'string') return;
    let trace = this.traces.get(document.trace_id);
    if (trace === undefined) {
      trace = { traceId: document.trace_id, documents: new Map(), receivedAt: Date.now() };
      this.traces.set(document.trace_id, trace);
      this.evict();
    }
    for (const flat of flatten(document)) trace.documents.set(flat.id, flat);
    trace.receivedAt = Date.now();
    for (const listener of this.listeners) listener(document.trace_id);
  }

  /** Calls `listener` with the trace ID whenever a document arrives; returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(traceId: string): StoredTrace | undefined {
    return this.traces.get(traceId);
  }

  /** Every trace, newest first. */
  list(): StoredTrace[] {
    return [...this.traces.values()].sort((a, b) => startOf(b) - startOf(a));
  }

  summaries(): TraceSummary[] {
    return this.list().map(summarize);
  }

  /** Resolves with the trace once `ready(trace)` holds; rejects after `timeoutMs`. */
  waitFor(traceId: string, ready: (trace: StoredTrace) => boolean, timeoutMs = 5000): Promise<StoredTrace> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const trace = this.traces.get(traceId);
        if (trace === undefined || !ready(trace)) return false;
        unsubscribe();
        clearTimeout(timer);
        resolve(trace);
        return true;
      };
      const unsubscribe = this.onChange((changed) => {
        if (changed === traceId) check();
      });
      const timer = setTimeout(() => {
        unsubscribe();
        const count = this.traces.get(traceId)?.documents.size ?? 0;
        reject(new Error(`trace ${traceId} not complete after ${timeoutMs} ms (${count} documents)`));
      }, timeoutMs);
      check();
    });
  }

  private evict(): void {
    while (this.traces.size > this.maxTraces) {
      const oldest = [...this.traces.values()].reduce((a, b) => (a.receivedAt <= b.receivedAt ? a : b));
      this.traces.delete(oldest.traceId);
    }
  }
}

/** The document and its embedded subsegments, each as an independent document of the trace. */
function flatten(document: XRaySegmentDocument): XRaySegmentDocument[] {
  const { subsegments, ...own } = document;
  const out: XRaySegmentDocument[] = [own];
  for (const sub of subsegments ?? []) {
    out.push(...flatten({ ...sub, trace_id: document.trace_id, parent_id: document.id, type: 'subsegment' }));
  }
  return out;
}

/** Documents whose parent is not in the trace (Lambda's own segment is never sent by the function). */
export function rootsOf(trace: StoredTrace): XRaySegmentDocument[] {
  return [...trace.documents.values()]
    .filter((d) => d.parent_id === undefined || !trace.documents.has(d.parent_id))
    .sort((a, b) => a.start_time - b.start_time);
}

function startOf(trace: StoredTrace): number {
  let start = Number.POSITIVE_INFINITY;
  for (const document of trace.documents.values()) start = Math.min(start, document.start_time);
  return Number.isFinite(start) ? start : 0;
}

/** The trace's summary line. */
export function summarize(trace: StoredTrace): TraceSummary {
  const documents = [...trace.documents.values()];
  const start = startOf(trace);
  const end = Math.max(...documents.map((d) => d.end_time ?? d.start_time));
  const root = rootsOf(trace)[0];
  const request = root?.http?.request;
  return {
    traceId: trace.traceId,
    name: root?.name ?? '',
    operation: request?.method !== undefined ? `${request.method} ${pathOf(request.url)}` : '',
    startTime: start,
    durationMs: Math.max(0, (end - start) * 1000),
    documents: documents.length,
    segments: documents.filter((d) => d.type === undefined).length,
    fault: documents.some((d) => d.fault === true),
    error: documents.some((d) => d.error === true),
    receivedAt: trace.receivedAt,
  };
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
