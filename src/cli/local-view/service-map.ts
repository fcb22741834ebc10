import type { XRaySegmentDocument } from '../../xray/segment-types.js';
import type { StoredTrace } from './trace-store.js';

/** A node of the map: a service (segment name) or something it called (a remote subsegment). */
export interface MapNode {
  name: string;
  /** `client`, `service` (segments, with their origin), `remote` or `aws` (downstream calls). */
  type: string;
  requests: number;
  faults: number;
  errors: number;
  /** Mean duration in ms. */
  averageMs: number;
}

export interface MapEdge {
  from: string;
  to: string;
  requests: number;
}

export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
}

export const CLIENT_NODE = 'Client';

/**
 * The service map of the given traces, built the way X-Ray draws it: a node per service (segment
 * name) and per downstream a subsegment called (`remote`/`aws` namespace, by subsegment name), an
 * edge from the client to each entry segment, and from a service to what it called. A call that
 * reached another traced service (a segment whose parent is that subsegment) points at the service.
 */
export function buildServiceMap(traces: Iterable<StoredTrace>): ServiceMap {
  const nodes = new Map<string, MapNode & { totalMs: number }>();
  const edges = new Map<string, MapEdge>();
  const node = (name: string, type: string) => {
    let found = nodes.get(name);
    if (found === undefined) {
      found = { name, type, requests: 0, faults: 0, errors: 0, averageMs: 0, totalMs: 0 };
      nodes.set(name, found);
    }
    return found;
  };
  const count = (name: string, type: string, document: XRaySegmentDocument) => {
    const target = node(name, type);
    target.requests += 1;
    if (document.fault) target.faults += 1;
    else if (document.error) target.errors += 1;
    target.totalMs += ((document.end_time ?? document.start_time) - document.start_time) * 1000;
  };
  const edge = (from: string, to: string) => {
    const key = `${from}\u0000${to}`;
    const found = edges.get(key) ?? { from, to, requests: 0 };
    found.requests += 1;
    edges.set(key, found);
  };

  for (const trace of traces) {
    const documents = trace.documents;
    const segmentOf = (document: XRaySegmentDocument): XRaySegmentDocument => {
      let current = document;
      for (let hops = 0; current.type === 'subsegment' && hops < 100; hops++) {
        const parent = current.parent_id === undefined ? undefined : documents.get(current.parent_id);
        if (parent === undefined) break;
        current = parent;
      }
      return current;
    };
    const calledSegments = new Map<string, XRaySegmentDocument>();
    for (const document of documents.values()) {
      if (
        document.type === undefined &&
        document.parent_id !== undefined &&
        documents.has(document.parent_id)
      ) {
        calledSegments.set(document.parent_id, document);
      }
    }
    for (const document of documents.values()) {
      if (document.type === undefined) {
        count(document.name, document.origin ?? 'service', document);
        const parent = document.parent_id === undefined ? undefined : documents.get(document.parent_id);
        if (parent === undefined) {
          node(CLIENT_NODE, 'client').requests += 1;
          edge(CLIENT_NODE, document.name);
        }
        continue;
      }
      if (document.namespace === undefined) continue;
      const caller = segmentOf(document).name;
      const callee = calledSegments.get(document.id);
      if (callee !== undefined) {
        edge(caller, callee.name);
      } else {
        count(document.name, document.namespace, document);
        edge(caller, document.name);
      }
    }
  }
  return {
    nodes: [...nodes.values()].map(({ totalMs, ...rest }) => ({
      ...rest,
      averageMs: rest.requests > 0 ? totalMs / rest.requests : 0,
    })),
    edges: [...edges.values()],
  };
}
