import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAGE_HTML, PAGE_SCRIPT, PAGE_STYLE } from './page.js';
import { buildServiceMap } from './service-map.js';
import type { TraceStore } from './trace-store.js';
import { waterfallRows } from './waterfall.js';

/** Where the page is served. */
export interface WebServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  store: TraceStore;
}

/**
 * Serves the local view: one HTML page (trace list, a waterfall per trace, the service map) and
 * the JSON it polls. Plain `node:http`, no framework; it listens on loopback by default because the
 * traces may hold anything the functions put in them.
 */
export class WebServer {
  private constructor(private readonly server: Server) {}

  static async start(options: WebServerOptions): Promise<WebServer> {
    const server = createServer((request, response) => {
      let answer: Reply;
      try {
        answer = route(new URL(request.url ?? '/', 'http://local').pathname, options.store);
      } catch (error) {
        answer = { status: 500, type: 'text/plain', body: `error: ${(error as Error).message}` };
      }
      send(response, answer);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new WebServer(server);
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

function route(path: string, store: TraceStore): Reply {
  if (path === '/' || path === '/index.html') return reply('text/html; charset=utf-8', PAGE_HTML);
  if (path === '/app.js') return reply('text/javascript; charset=utf-8', PAGE_SCRIPT);
  if (path === '/app.css') return reply('text/css; charset=utf-8', PAGE_STYLE);
  if (path === '/api/traces') return json(store.summaries());
  if (path === '/api/map') return json(buildServiceMap(store.list()));
  const match = /^\/api\/traces\/([0-9a-f-]+)$/.exec(path);
  if (match !== null) {
    const trace = store.get(match[1] ?? '');
    if (trace === undefined)
      return { status: 404, type: 'application/json', body: '{"error":"no such trace"}' };
    return json({ traceId: trace.traceId, rows: waterfallRows(trace) });
  }
  return { status: 404, type: 'text/plain', body: 'not found' };
}

function reply(type: string, body: string): Reply {
  return { status: 200, type, body };
}

function json(body: unknown): Reply {
  return reply('application/json', JSON.stringify(body));
}

function send(response: ServerResponse, { status, type, body }: Reply): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}
