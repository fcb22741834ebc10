import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RuntimeName } from '../../src/local/runtime-entries.js';
import { HttpServers, type RecordedRequest } from '../helpers/http-servers.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { traceHeader } from '../helpers/traced-function.js';
import { startHttpFunction } from './http-harness.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/*
 * Outbound calls from a function running through the built layer on the real runtime client:
 * http.get, https.request, axios, fetch and http2 sessions, against real servers on 127.0.0.1 that
 * record the trace headers they received.
 */

type Client = 'http.get' | 'https.request' | 'axios' | 'fetch' | 'http2';
interface Call {
  client: Client;
  url: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

function invocationSpan(spans: ReceivedSpan[], traceId: string): ReceivedSpan {
  const span = spans.find((s) => s.traceId === traceId && s.kind === SERVER);
  assert.ok(span, `no invocation span in trace ${traceId}: ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

function clientSpanFor(spans: ReceivedSpan[], path: string): ReceivedSpan {
  const matching = spans.filter((s) => s.kind === CLIENT && String(s.attributes['url.full']).includes(path));
  assert.equal(matching.length, 1, `expected one CLIENT span for ${path}, got ${matching.length}`);
  return matching[0] as ReceivedSpan;
}

/** The server saw trace headers naming this client span as the parent. */
function assertPropagated(request: RecordedRequest, span: ReceivedSpan): void {
  const xray = request.headers['x-amzn-trace-id'] ?? '';
  const epoch = span.traceId.slice(0, 8);
  assert.match(xray, new RegExp(`Root=1-${epoch}-${span.traceId.slice(8)}`), `X-Ray header ${xray}`);
  assert.match(xray, new RegExp(`Parent=${span.spanId}`), `X-Ray header ${xray}`);
  assert.match(xray, /Sampled=1/);
  assert.equal(request.headers.traceparent, `00-${span.traceId}-${span.spanId}-01`);
}

/** A port nothing listens on (one the system just handed out and took back). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function defineOutboundSuite(runtime: RuntimeName, fixture: 'http-client' | 'http-client-esm'): void {
  describe(`outbound HTTP from ${fixture} on ${runtime}`, () => {
    let receiver: OtlpReceiver;
    let servers: HttpServers;
    before(async () => {
      [receiver, servers] = await Promise.all([OtlpReceiver.start(), HttpServers.start()]);
    });
    after(async () => {
      await Promise.all([receiver.close(), servers.close()]);
    });

    test('http.get, https.request, axios, fetch and http2: one CLIENT span each, continued downstream', async () => {
      const fn = await startHttpFunction(runtime, fixture, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      });
      try {
        const run = randomUUID().slice(0, 8);
        const { http, https, http2 } = servers.urls;
        const calls: Call[] = [
          { client: 'http.get', url: `${http}/http-get-${run}?page=2` },
          { client: 'https.request', url: `${https}/https-request-${run}` },
          { client: 'axios', url: `${http}/axios-${run}` },
          { client: 'fetch', url: `${http}/fetch-${run}` },
          { client: 'http2', url: `${http2}/http2-${run}` },
        ];
        const header = traceHeader(true);
        const result = await fn.invoke(
          { calls, ca: servers.certificate.cert },
          { traceHeader: header.header },
        );
        assert.equal(result.status, 'success', fn.output());
        const outcomes = JSON.parse((result.payload as { body: string }).body) as unknown[];
        assert.deepEqual(
          outcomes,
          calls.map((c) => ({ client: c.client, status: 200 })),
        );

        const root = invocationSpan(receiver.spans, header.traceId);
        for (const call of calls) {
          const path = new URL(call.url).pathname;
          const span = clientSpanFor(receiver.spans, path);
          assert.equal(span.parentSpanId, root.spanId, `${call.client} span is not under the invocation`);
          assert.equal(span.traceId, header.traceId);
          assert.equal(span.name, 'GET', `${call.client} span name`);
          assert.equal(span.attributes['http.request.method'], 'GET');
          assert.equal(span.attributes['http.method'], 'GET');
          assert.equal(span.attributes['url.full'], call.url, `${call.client} url.full`);
          assert.equal(span.attributes['http.url'], call.url, `${call.client} http.url`);
          assert.equal(span.attributes['http.response.status_code'], 200);
          assert.equal(span.attributes['http.status_code'], 200);
          assert.equal(span.status.code, 0);
          assertPropagated(await servers.waitFor(path), span);
        }

        // A second invocation flushes anything the first export traced about itself; a third
        // flushes anything the second did.
        for (let i = 0; i < 2; i++) {
          const again = await fn.invoke({}, { traceHeader: traceHeader(true).header });
          assert.equal(again.status, 'success');
        }
        const receiverPort = new URL(receiver.endpoint).port;
        const runtimeApiOrSelf = receiver.spans.filter(
          (s) =>
            s.kind === CLIENT &&
            (String(s.attributes['server.port']) === receiverPort ||
              String(s.attributes['url.full']).includes('/2018-06-01/runtime')),
        );
        assert.deepEqual(
          runtimeApiOrSelf.map((s) => s.attributes['url.full']),
          [],
          "the exporter's or the runtime's own calls were traced",
        );
        assert.equal(
          receiver.spans.filter((s) => s.kind === CLIENT).length,
          calls.length,
          'unexpected CLIENT spans',
        );
      } finally {
        await fn.cleanup();
      }
    });

    if (fixture === 'http-client' && runtime === 'nodejs24.x') {
      test('errors, error statuses and timeouts are recorded on the client spans', async () => {
        const fn = await startHttpFunction(runtime, fixture, {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        });
        try {
          const run = randomUUID().slice(0, 8);
          const { http, https, http2 } = servers.urls;
          const closedPort = `http://127.0.0.1:${await unusedPort()}`;
          const calls: Call[] = [
            { client: 'https.request', url: `${https}/status/503/e-${run}` },
            { client: 'fetch', url: `${http}/status/404/e-${run}` },
            { client: 'axios', url: `${http}/hang/axios-${run}`, timeoutMs: 100 },
            { client: 'http.get', url: `${http}/hang/get-${run}`, timeoutMs: 100 },
            { client: 'http2', url: `${http2}/hang/h2-${run}`, timeoutMs: 100 },
            { client: 'fetch', url: `${http}/hang/fetch-${run}`, timeoutMs: 100 },
            { client: 'fetch', url: `${closedPort}/refused-${run}` },
          ];
          const header = traceHeader(true);
          const result = await fn.invoke(
            { calls, ca: servers.certificate.cert },
            { traceHeader: header.header },
          );
          assert.equal(result.status, 'success', fn.output());
          const root = invocationSpan(receiver.spans, header.traceId);
          const inTrace = receiver.spans.filter((s) => s.traceId === header.traceId && s.kind === CLIENT);
          assert.equal(inTrace.length, calls.length, inTrace.map((s) => s.attributes['url.full']).join(', '));
          for (const span of inTrace) assert.equal(span.parentSpanId, root.spanId);

          const s503 = clientSpanFor(inTrace, `/status/503/e-${run}`);
          assert.equal(s503.attributes['http.status_code'], 503);
          assert.equal(s503.status.code, ERROR);
          const s404 = clientSpanFor(inTrace, `/status/404/e-${run}`);
          assert.equal(s404.attributes['http.status_code'], 404);
          assert.equal(s404.attributes['error.type'], '404');

          const timedOut = [
            `/hang/axios-${run}`,
            `/hang/get-${run}`,
            `/hang/h2-${run}`,
            `/hang/fetch-${run}`,
          ];
          for (const path of timedOut) {
            const span = clientSpanFor(inTrace, path);
            assert.equal(span.status.code, ERROR, `${path} not marked as an error`);
            assert.equal(span.attributes['http.status_code'], undefined);
            assert.ok(
              span.events.some((e) => e.name === 'exception'),
              `${path}: no exception event (${JSON.stringify(span.attributes)})`,
            );
          }
          const refused = clientSpanFor(inTrace, `/refused-${run}`);
          assert.equal(refused.status.code, ERROR);
          assert.ok(refused.events.some((e) => e.name === 'exception'));
        } finally {
          await fn.cleanup();
        }
      });

      test('no credential of an incoming request or an outgoing call reaches the exported data', async () => {
        const fn = await startHttpFunction(runtime, fixture, {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        });
        try {
          const run = randomUUID().slice(0, 8);
          const secrets = {
            authorization: `Bearer incoming-bearer-${run}`,
            cookie: `session=incoming-cookie-${run}`,
            token: `incoming-token-${run}`,
            outAuthorization: `Bearer outgoing-bearer-${run}`,
            outCookie: `sid=outgoing-cookie-${run}`,
            outToken: `outgoing-token-${run}`,
            password: `outgoing-password-${run}`,
          };
          const { http, http2 } = servers.urls;
          const port = new URL(http).port;
          const withSecrets = (client: Client, base: string, path: string): Call => ({
            client,
            url: `${base}${path}?token=${secrets.outToken}&page=1`,
            headers: { authorization: secrets.outAuthorization, cookie: secrets.outCookie },
          });
          const calls: Call[] = [
            {
              client: 'http.get',
              url: `http://user:${secrets.password}@127.0.0.1:${port}/creds-${run}?api_key=${secrets.outToken}`,
            },
            withSecrets('axios', http, `/axios-secret-${run}`),
            withSecrets('fetch', http, `/fetch-secret-${run}`),
            withSecrets('http2', http2, `/h2-secret-${run}`),
          ];
          const event = {
            version: '2.0',
            routeKey: 'GET /orders/{id}',
            rawPath: '/orders/7',
            rawQueryString: `token=${secrets.token}&page=1`,
            cookies: [secrets.cookie],
            headers: {
              authorization: secrets.authorization,
              cookie: secrets.cookie,
              'x-api-key': `incoming-api-key-${run}`,
              host: 'api.example.com',
            },
            requestContext: {
              domainName: 'api.example.com',
              http: { method: 'GET', path: '/orders/7', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9' },
              routeKey: 'GET /orders/{id}',
            },
            calls,
            ca: servers.certificate.cert,
          };
          const header = traceHeader(true);
          const result = await fn.invoke(event, { traceHeader: header.header });
          assert.equal(result.status, 'success', fn.output());
          const root = invocationSpan(receiver.spans, header.traceId);
          assert.equal(root.attributes['url.query'], 'token=REDACTED&page=1');
          // Every call was made and traced, credentials and all: only the spans leave them out.
          for (const call of calls) {
            const path = new URL(call.url).pathname;
            const span = clientSpanFor(receiver.spans, path);
            assert.doesNotMatch(String(span.attributes['url.full']), /outgoing-|user:/);
            if (call.client !== 'http.get') {
              assert.equal((await servers.waitFor(path)).headers.authorization, secrets.outAuthorization);
            }
          }
          const creds = clientSpanFor(receiver.spans, `/creds-${run}`);
          assert.equal(
            creds.attributes['url.full'],
            `http://127.0.0.1:${port}/creds-${run}?api_key=REDACTED`,
          );
          assert.ok(receiver.payloadIncludes(`page=1`), 'the payload search finds what is there');
          for (const [name, value] of Object.entries(secrets)) {
            assert.equal(receiver.payloadIncludes(value), false, `${name} leaked into the exported spans`);
          }
          assert.equal(receiver.payloadIncludes(`incoming-api-key-${run}`), false, 'x-api-key leaked');
        } finally {
          await fn.cleanup();
        }
      });
    }
  });
}

defineOutboundSuite('nodejs24.x', 'http-client');
defineOutboundSuite('nodejs24.x', 'http-client-esm');
defineOutboundSuite('nodejs22.x', 'http-client-esm');
