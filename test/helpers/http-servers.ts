/**
 * Real HTTP/1.1 (plain and TLS) and HTTP/2 (TLS) servers on 127.0.0.1 for the outbound-call tests.
 * Each records the requests it got, headers included, so a test can check the trace headers a
 * client sent. The TLS certificate is self-signed, generated at start with the `openssl` CLI.
 *
 * Paths: `/status/<code>` answers with that status; `/hang` never answers (a timeout); anything else 200.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One request as a server received it. */
export interface RecordedRequest {
  readonly server: 'http' | 'https' | 'http2';
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  /** Lower-case names. */
  readonly headers: Record<string, string>;
}

/** A self-signed certificate for 127.0.0.1 and localhost. */
export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

/** Generates a throwaway certificate with the `openssl` CLI (present on the test machines). */
export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'test-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The three servers, their base URLs and what they received. */
export class HttpServers {
  readonly requests: RecordedRequest[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  private constructor(
    private readonly servers: { http: http.Server; https: https.Server; http2: http2.Http2SecureServer },
    readonly certificate: TestCertificate,
  ) {}

  static async start(): Promise<HttpServers> {
    const certificate = selfSignedCertificate();
    let self: HttpServers | undefined;
    const record = (request: RecordedRequest) => self?.record(request);
    const h1 = http.createServer((req, res) => answer('http', req, res, record));
    const h1s = https.createServer(certificate, (req, res) => answer('https', req, res, record));
    const h2 = http2.createSecureServer(certificate, (req, res) => answer('http2', req, res, record));
    self = new HttpServers({ http: h1, https: h1s, http2: h2 }, certificate);
    // Sessions left open by a /hang request would keep close() waiting.
    h2.on('session', (session) => self?.sessions.add(session));
    await Promise.all([h1, h1s, h2].map((server) => listen(server)));
    return self;
  }

  /** Base URLs, without a trailing slash. */
  get urls(): { http: string; https: string; http2: string } {
    const port = (server: { address(): AddressInfo | string | null }) =>
      (server.address() as AddressInfo).port;
    return {
      http: `http://127.0.0.1:${port(this.servers.http)}`,
      https: `https://127.0.0.1:${port(this.servers.https)}`,
      http2: `https://127.0.0.1:${port(this.servers.http2)}`,
    };
  }

  /** The requests whose path starts with `prefix`. */
  received(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url.startsWith(prefix));
  }

  /** Resolves once a request with this path prefix arrived. */
  async waitFor(prefix: string, timeoutMs = 5000): Promise<RecordedRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received(prefix)[0];
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no request for ${prefix}; got ${this.requests.map((r) => r.url).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.servers.http.closeAllConnections();
    this.servers.https.closeAllConnections();
    for (const session of this.sessions) session.destroy();
    await Promise.all(
      Object.values(this.servers).map(
        (server: { close(cb: () => void): void }) =>
          new Promise<void>((resolve) => server.close(() => resolve())),
      ),
    );
  }

  private record(request: RecordedRequest): void {
    this.requests.push(request);
    for (const wake of this.waiters.splice(0)) wake();
  }
}

function answer(
  server: RecordedRequest['server'],
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  record: (request: RecordedRequest) => void,
): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith(':') && value !== undefined)
      headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = req.url ?? '/';
  record({ server, method: req.method ?? 'GET', url, headers });
  if (url.startsWith('/hang')) return; // Never answered: the client's timeout ends it.
  const status = /^\/status\/(\d{3})/.exec(url)?.[1];
  req.resume();
  const body = JSON.stringify({ server, url });
  (res as http.ServerResponse).writeHead(status === undefined ? 200 : Number(status), {
    'content-type': 'application/json',
  });
  (res as http.ServerResponse).end(body);
}

function listen(server: http.Server | https.Server | http2.Http2SecureServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}
