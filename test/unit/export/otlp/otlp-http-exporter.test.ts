/**
 * The lean exporter over OTLP/HTTP, against real `node:http` servers on 127.0.0.1 that play the
 * collector's OTLP/HTTP receiver (each test scripts how it answers).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  LEAN_HTTP_EXPORTER_USER_AGENT,
  LeanOtlpTraceExporter,
  type LeanOtlpTraceExporterOptions,
} from '../../../../src/export/otlp/lean-otlp-exporter.js';
import { OtlpHttpClient } from '../../../../src/export/otlp/otlp-http-client.js';
import { PlainHttpClient } from '../../../../src/export/otlp/plain-http-client.js';
import { exportFromChild, exportOnce, useExporterSuiteHooks } from './exporter-kit.js';
import { makeSpans, makeVariedSpans } from './span-fixtures.js';

const SECRET = 'Bearer sk_live_never_log_this_http_value';

const logged: string[] = [];

/** One request as the fake collector saw it. */
interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Which TCP connection carried it (1, 2, ...). */
  connection: number;
  /** Its position on that connection (1 = first). */
  onConnection: number;
}

type Answer = (request: SeenRequest, response: ServerResponse, socket: Socket) => void;

/** A collector stand-in: records every request, then answers as `answer` says. */
class FakeCollector {
  readonly requests: SeenRequest[] = [];
  connections = 0;
  closedConnections = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(answer: Answer): Promise<FakeCollector> {
    const perSocket = new WeakMap<Socket, { id: number; count: number }>();
    let collector: FakeCollector | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const socket = request.socket;
        const entry = perSocket.get(socket) ?? { id: 0, count: 0 };
        entry.count++;
        const seen: SeenRequest = {
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks),
          connection: entry.id,
          onConnection: entry.count,
        };
        collector?.requests.push(seen);
        answer(seen, response, socket);
      });
    });
    server.on('connection', (socket: Socket) => {
      if (!collector) return;
      collector.connections++;
      perSocket.set(socket, { id: collector.connections, count: 0 });
      collector.sockets.add(socket);
      socket.on('close', () => {
        if (!collector) return;
        collector.closedConnections++;
        collector.sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    collector = new FakeCollector(server, (server.address() as AddressInfo).port);
    return collector;
  }

  url(path = '/v1/traces'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** `google.rpc.Status { code = 1; message = 2 }`, as a collector sends with an error status. */
function rpcStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08, code, 0x12, text.length]), text]);
}

const ok: Answer = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/x-protobuf' });
  response.end();
};

const cleanups: (() => unknown)[] = [];

async function collector(answer: Answer = ok): Promise<FakeCollector> {
  const started = await FakeCollector.start(answer);
  cleanups.push(() => started.close());
  return started;
}

function exporterFor(
  url: string,
  options: Partial<LeanOtlpTraceExporterOptions> = {},
): LeanOtlpTraceExporter {
  const exporter = new LeanOtlpTraceExporter({
    protocol: 'http/protobuf',
    url,
    timeoutMillis: 2000,
    ...options,
  });
  cleanups.push(() => exporter.shutdown());
  return exporter;
}

describe('LeanOtlpTraceExporter over OTLP/HTTP', () => {
  useExporterSuiteHooks(logged, cleanups);

  it('POSTs the official protobuf encoding to the URL as given, with headers', async () => {
    const fake = await collector();
    const exporter = exporterFor(fake.url('/custom/v1/traces'), {
      headers: { Authorization: SECRET, 'X-Tenant': 'blue' },
    });
    const spans = makeVariedSpans();
    const result = await exportOnce(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));

    assert.equal(fake.requests.length, 1);
    const [seen] = fake.requests;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/custom/v1/traces');
    assert.equal(seen.headers['content-type'], 'application/x-protobuf');
    assert.equal(seen.headers['content-length'], String(seen.body.length));
    assert.equal(seen.headers['user-agent'], LEAN_HTTP_EXPORTER_USER_AGENT);
    assert.equal(seen.headers.authorization, SECRET);
    assert.equal(seen.headers['x-tenant'], 'blue');
    assert.ok(seen.body.equals(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array));
  });

  it('sends the credentials of a user:password@ endpoint as Basic authorization, never in a log', async () => {
    const fake = await collector();
    const url = fake.url('/v1/traces?tenant=blue').replace('http://', 'http://otel:sk_live%40pw@');
    assert.equal((await exportOnce(exporterFor(url), makeSpans(['auth']))).code, ExportResultCode.SUCCESS);
    const [seen] = fake.requests;
    assert.equal(seen.url, '/v1/traces?tenant=blue');
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('otel:sk_live@pw').toString('base64')}`);
  });

  it('reuses one kept-alive connection for successive exports', async () => {
    const fake = await collector();
    const exporter = exporterFor(fake.url());
    for (const name of ['one', 'two', 'three']) {
      assert.equal((await exportOnce(exporter, makeSpans([name]))).code, ExportResultCode.SUCCESS);
    }
    assert.equal(fake.requests.length, 3);
    assert.equal(fake.connections, 1);
  });

  it('retries once on a new connection when a kept-alive one was closed under it', async () => {
    // The second request on any connection is answered by a reset, as from a collector that closed
    // an idle connection while Lambda had the process frozen.
    const fake = await collector((request, response, socket) => {
      if (request.onConnection > 1) socket.resetAndDestroy();
      else ok(request, response, socket);
    });
    const exporter = exporterFor(fake.url());
    assert.equal((await exportOnce(exporter, makeSpans(['first']))).code, ExportResultCode.SUCCESS);
    const second = await exportOnce(exporter, makeSpans(['second']));
    assert.equal(second.code, ExportResultCode.SUCCESS, String(second.error));
    assert.equal(fake.requests.length, 3, 'the failed attempt and its retry');
    assert.equal(fake.connections, 2);
  });

  it('fails with the HTTP status and the collector message from a google.rpc.Status body', async () => {
    const fake = await collector((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/x-protobuf' });
      response.end(rpcStatus(14, 'pipeline is full'));
    });
    const result = await exportOnce(exporterFor(fake.url()), makeSpans(['refused']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /HTTP status 503 Service Unavailable: pipeline is full/);
  });

  it('succeeds with a warning when the collector reports a partial success', async () => {
    // ExportTraceServiceResponse { partial_success = 1 { rejected_spans = 1: 2, error_message = 2 } }
    const message = Buffer.from('dropped two', 'utf8');
    const partial = Buffer.concat([Buffer.from([0x08, 2, 0x12, message.length]), message]);
    const body = Buffer.concat([Buffer.from([0x0a, partial.length]), partial]);
    const fake = await collector((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end(body);
    });
    const before = logged.length;
    const result = await exportOnce(exporterFor(fake.url()), makeSpans(['a', 'b', 'c']));
    assert.equal(result.code, ExportResultCode.SUCCESS);
    assert.ok(
      logged
        .slice(before)
        .some((line) => /warn OTLP\/HTTP exporter: collector rejected 2 span\(s\): dropped two/.test(line)),
      logged.slice(before).join('\n'),
    );
  });

  it('fails fast on a refused connection', async () => {
    const fake = await collector();
    const url = fake.url();
    await fake.close();
    const result = await exportOnce(exporterFor(url), makeSpans(['nobody home']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /before any response: .*ECONNREFUSED/);
    assert.ok(result.elapsedMs < 1000, `took ${result.elapsedMs} ms`);
  });

  it('gives up at its timeout and closes the connection of a collector that never answers', async () => {
    const fake = await collector(() => {});
    const result = await exportOnce(exporterFor(fake.url(), { timeoutMillis: 200 }), makeSpans(['hung']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /no HTTP response within 200 ms/);
    assert.ok(result.elapsedMs >= 190 && result.elapsedMs < 1500, `took ${result.elapsedMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fake.closedConnections, 1, 'the hung connection was closed');
  });

  it('drops unusable headers with a warning naming only the key', async () => {
    const fake = await collector();
    const exporter = exporterFor(fake.url(), {
      headers: {
        'x-ok': 'yes',
        'x-multiline': 'sk_live_a\r\nInjected: 1',
        'bad header': 'v',
        'content-type': 'text/plain',
      },
    });
    assert.equal((await exportOnce(exporter, makeSpans(['h']))).code, ExportResultCode.SUCCESS);
    const [seen] = fake.requests;
    assert.equal(seen.headers['x-ok'], 'yes');
    assert.equal(seen.headers.injected, undefined);
    assert.equal(seen.headers['content-type'], 'application/x-protobuf');
    assert.ok(logged.some((line) => line.includes("header 'x-multiline'")));
    assert.ok(logged.some((line) => line.includes("header 'bad header' is not usable as an HTTP header")));
  });

  it('reports a bad URL on export instead of throwing', async () => {
    const result = await exportOnce(exporterFor('ftp://collector:4318/v1/traces'), makeSpans(['x']));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(String(result.error?.message), /OTLP\/HTTP exporter: unsupported endpoint scheme 'ftp:'/);
  });

  it('does not keep the process alive once idle, and `await shutdown()` settles', async () => {
    const fake = await collector();
    const options = { protocol: 'http/protobuf', url: fake.url(), timeoutMillis: 2000 };
    for (const thenShutdown of [false, true]) {
      const stdout = await exportFromChild(options, { thenShutdown });
      assert.equal(stdout, thenShutdown ? 'result 0 shut down' : 'result 0');
    }
    assert.equal(fake.requests.length, 2);
  });

  describe('settling once sent (settleWhenSent)', () => {
    const slow =
      (status: number): Answer =>
      (_request, response) => {
        setTimeout(() => {
          response.writeHead(status, { 'content-type': 'application/x-protobuf' });
          response.end(status === 200 ? undefined : rpcStatus(14, 'busy'));
        }, 300);
      };

    it('reports success once written on a new connection, without waiting for the answer', async () => {
      const fake = await collector(slow(200));
      const exporter = exporterFor(fake.url(), { settleWhenSent: true });
      const first = await exportOnce(exporter, makeSpans(['early']));
      assert.equal(first.code, ExportResultCode.SUCCESS, String(first.error));
      assert.ok(first.elapsedMs < 250, `waited for the answer: ${first.elapsedMs} ms`);
      assert.equal(fake.requests.length, 1, 'the request had reached the collector');
      // Once that connection has answered, it is trusted for the next export too.
      await new Promise((resolve) => setTimeout(resolve, 350));
      const second = await exportOnce(exporter, makeSpans(['early again']));
      assert.ok(second.elapsedMs < 250, `waited for the answer: ${second.elapsedMs} ms`);
      assert.equal(fake.connections, 1);
    });

    it('once sent, a request awaiting its answer does not keep the process alive', async () => {
      const fake = await collector(() => {}); // never answers
      const options = {
        protocol: 'http/protobuf',
        url: fake.url(),
        timeoutMillis: 8000,
        settleWhenSent: true,
      };
      const started = performance.now();
      const stdout = await exportFromChild(options, { timeoutMs: 7000 });
      assert.equal(stdout, 'result 0');
      assert.ok(performance.now() - started < 5000, 'the process waited for the answer');
      assert.equal(fake.requests.length, 1);
    });

    it('waits for the answer when it is not asked to settle early', async () => {
      const fake = await collector(slow(200));
      const result = await exportOnce(exporterFor(fake.url()), makeSpans(['patient']));
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.ok(result.elapsedMs >= 290, `did not wait: ${result.elapsedMs} ms`);
    });

    it('still fails an export whose connection is refused', async () => {
      const fake = await collector();
      const url = fake.url();
      await fake.close();
      const result = await exportOnce(exporterFor(url, { settleWhenSent: true }), makeSpans(['refused']));
      assert.equal(result.code, ExportResultCode.FAILED);
    });

    it('logs a failure the answer brings after the export was reported sent, once as a warning', async () => {
      const fake = await collector(slow(503));
      const exporter = exporterFor(fake.url(), { settleWhenSent: true });
      const before = logged.length;
      assert.equal((await exportOnce(exporter, makeSpans(['a']))).code, ExportResultCode.SUCCESS);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal((await exportOnce(exporter, makeSpans(['b']))).code, ExportResultCode.SUCCESS);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const lines = logged.slice(before).filter((line) => line.includes('HTTP status 503'));
      assert.equal(lines.length, 2, lines.join('\n'));
      assert.match(lines[0] ?? '', /^warn .*reported after the export was sent/);
      assert.match(lines[1] ?? '', /^debug /);
    });
  });

  describe('the node:http client (https endpoints; driven here over http)', () => {
    const post = (client: OtlpHttpClient | PlainHttpClient, body: Buffer) =>
      new Promise<{ error: Error | undefined; sentFirst: boolean; sentCount: number }>((resolve) => {
        let sentCount = 0;
        const onSent = () => {
          sentCount++;
        };
        client.post(body, { timeoutMillis: 2000, onSent }, (error) =>
          resolve({ error, sentFirst: sentCount > 0, sentCount }),
        );
      });
    const clientFor = (url: string) => {
      const client = new OtlpHttpClient({
        url: new URL(url),
        headers: { 'x-tenant': 'blue' },
        userAgent: 'ua',
      });
      cleanups.push(() => client.close());
      return client;
    };

    it('posts, reuses its connection, retries on a reset one, and says when a request is sent', async () => {
      const fake = await collector((request, response, socket) => {
        if (request.onConnection > 2) socket.resetAndDestroy();
        else ok(request, response, socket);
      });
      const client = clientFor(fake.url());
      for (let i = 0; i < 3; i++) {
        const outcome = await post(client, Buffer.from(`body ${i}`));
        assert.equal(outcome.error, undefined);
        assert.equal(outcome.sentFirst, true, 'onSent comes before the answer');
        assert.equal(outcome.sentCount, 1, 'onSent once, a retry included');
      }
      assert.deepEqual(
        fake.requests.map((r) => [r.connection, r.body.toString(), r.headers['x-tenant']]),
        [
          [1, 'body 0', 'blue'],
          [1, 'body 1', 'blue'],
          [1, 'body 2', 'blue'],
          [2, 'body 2', 'blue'],
        ],
      );
    });

    it('the plain client too: onSent once per request, a retry included', async () => {
      const fake = await collector((request, response, socket) => {
        if (request.onConnection > 2) socket.resetAndDestroy();
        else ok(request, response, socket);
      });
      const client = new PlainHttpClient({ url: new URL(fake.url()), headers: {}, userAgent: 'ua' });
      cleanups.push(() => client.close());
      for (let i = 0; i < 3; i++) {
        const outcome = await post(client, Buffer.from(`body ${i}`));
        assert.equal(outcome.error, undefined);
        assert.equal(outcome.sentCount, 1);
      }
      assert.equal(fake.connections, 2, 'the third request was retried on a new connection');
    });

    it('the plain client reports a request sent before post() returns when the kernel took it at once', async () => {
      const fake = await collector(ok);
      const client = new PlainHttpClient({ url: new URL(fake.url()), headers: {}, userAgent: 'ua' });
      cleanups.push(() => client.close());
      // A new connection is still connecting when post() returns: sent only once written.
      let sentNow = 0;
      const first = new Promise<Error | undefined>((resolve) =>
        client.post(Buffer.from('a'), { timeoutMillis: 2000, onSent: () => sentNow++ }, resolve),
      );
      assert.equal(sentNow, 0, 'reported sent before the connection was made');
      assert.equal(await first, undefined);
      assert.equal(sentNow, 1);
      // The kept connection has answered: the next request is in the kernel when write() returns.
      const second = new Promise<Error | undefined>((resolve) =>
        client.post(Buffer.from('b'), { timeoutMillis: 2000, onSent: () => sentNow++ }, resolve),
      );
      assert.equal(sentNow, 2, 'not reported sent inside post()');
      assert.equal(await second, undefined);
      assert.equal(sentNow, 2, 'reported sent twice');
      assert.deepEqual(
        fake.requests.map((r) => r.body.toString()),
        ['a', 'b'],
      );
    });

    it('a kept connection that has not answered for 10 s is not trusted: its request waits for the answer', async (t) => {
      const fake = await collector(ok);
      const client = new PlainHttpClient({ url: new URL(fake.url()), headers: {}, userAgent: 'ua' });
      cleanups.push(() => client.close());
      let sent = 0;
      const post = () =>
        new Promise<Error | undefined>((resolve) =>
          client.post(Buffer.from('x'), { timeoutMillis: 2000, onSent: () => sent++ }, resolve),
        );
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
      assert.equal(await post(), undefined);
      assert.equal(await post(), undefined);
      assert.equal(sent, 2, 'a new connection, then one that answered just now');
      t.mock.timers.tick(10_001);
      assert.equal(await post(), undefined);
      assert.equal(sent, 2, 'reported sent on a connection idle for more than 10 s');
      assert.equal(fake.connections, 1, 'the connection is still reused, only not trusted before its answer');
    });

    it('the plain client does not report a request sent when the write failed inside write()', async () => {
      const serverSockets: Socket[] = [];
      const bodies: string[] = [];
      const server = createNetServer((socket) => {
        serverSockets.push(socket);
        socket.on('error', () => {});
        socket.on('data', (data) => {
          bodies.push(data.toString('latin1').split('\r\n\r\n')[1] ?? '');
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.address() as AddressInfo;
      const client = new PlainHttpClient({
        url: new URL(`http://127.0.0.1:${port}/`),
        headers: {},
        userAgent: 'ua',
      });
      cleanups.push(() => client.close());
      const post = (body: string, onSent: () => void) =>
        new Promise<Error | undefined>((resolve) =>
          client.post(Buffer.from(body), { timeoutMillis: 2000, onSent }, resolve),
        );
      assert.equal(await post('first', () => {}), undefined);
      // The collector resets the kept connection while this process runs no event loop (frozen):
      // the reset is in the kernel, unseen, when the next request is written.
      serverSockets[0]?.resetAndDestroy();
      const until = Date.now() + 50;
      while (Date.now() < until) {
        // busy: no event loop turn
      }
      let sentInsidePost = false;
      let returned = false;
      const second = post('second', () => {
        if (!returned) sentInsidePost = true;
      });
      returned = true;
      assert.equal(sentInsidePost, false, 'a failed write was reported sent');
      assert.equal(await second, undefined, 'the retry on a new connection should succeed');
      assert.deepEqual(bodies, ['first', 'second']);
    });

    it('the plain client writes its request head in the room left before the body, or copies without it', async () => {
      const fake = await collector(ok);
      const client = new PlainHttpClient({ url: new URL(fake.url()), headers: {}, userAgent: 'ua' });
      cleanups.push(() => client.close());
      const postWith = (message: Buffer, headroom: number) =>
        new Promise<Error | undefined>((resolve) =>
          client.post(message, { timeoutMillis: 2000, headroom }, resolve),
        );
      const roomy = Buffer.concat([Buffer.alloc(client.headroom, '#'), Buffer.from('in place')]);
      assert.equal(await postWith(roomy, client.headroom), undefined);
      assert.match(
        roomy.toString('latin1'),
        /^#*POST \S+ HTTP\/1\.1\r\n[\s\S]*Content-Length: 8\r\n\r\nin place$/,
      );
      const cramped = Buffer.from('###copied');
      assert.equal(await postWith(cramped, 3), undefined);
      assert.equal(cramped.toString(), '###copied', 'wrote into a headroom too small for the head');
      assert.deepEqual(
        fake.requests.map((r) => [r.body.toString(), r.headers['content-length']]),
        [
          ['in place', '8'],
          ['copied', '6'],
        ],
      );
    });

    it('names the status and the collector message of an error answer', async () => {
      const fake = await collector((_request, response) => {
        response.writeHead(429, { 'content-type': 'application/x-protobuf' });
        response.end(rpcStatus(8, 'slow down'));
      });
      const { error } = await post(clientFor(fake.url()), Buffer.from('x'));
      assert.match(String(error?.message), /HTTP status 429 Too Many Requests: slow down/);
    });
  });
});
