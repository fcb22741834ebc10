import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MAX_DATAGRAM_BYTES } from '../../../src/xray/datagram-fit.js';
import type { XRaySegmentDocument } from '../../../src/xray/segment-types.js';
import { CHECK_EVERY, XRayUdpExporter } from '../../../src/xray/udp-exporter.js';
import { assertValidDocument, LAMBDA_CONTEXT, LAMBDA_FACADE, makeTracing } from './helpers.js';

const HEADER = '{"format":"json","version":1}';

/** A stand-in X-Ray daemon: a UDP socket on 127.0.0.1 that collects datagrams. */
async function startDaemon(): Promise<{
  socket: Socket;
  port: number;
  received: Buffer[];
  /** The source port of each datagram received: one per sending socket. */
  sourcePorts: number[];
  next: (count: number) => Promise<Buffer[]>;
}> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  const sourcePorts: number[] = [];
  const waiters: { count: number; resolve: (datagrams: Buffer[]) => void }[] = [];
  socket.on('message', (message, sender) => {
    received.push(message);
    sourcePorts.push(sender.port);
    for (const waiter of waiters.filter((entry) => received.length >= entry.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(received.slice(0, waiter.count));
    }
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const next = (count: number) =>
    received.length >= count
      ? Promise.resolve(received.slice(0, count))
      : new Promise<Buffer[]>((resolve) => waiters.push({ count, resolve }));
  return { socket, port: socket.address().port, received, sourcePorts, next };
}

function exportSpans(exporter: XRayUdpExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function parseDatagram(datagram: Buffer): XRaySegmentDocument {
  const text = datagram.toString('utf8');
  const newline = text.indexOf('\n');
  assert.equal(text.slice(0, newline), HEADER, 'each datagram starts with the header line');
  return JSON.parse(text.slice(newline + 1));
}

/** A port that was just bound and released: nothing listens there. */
async function unusedUdpPort(): Promise<number> {
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('each document goes to the daemon in its own datagram, after the header line', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${daemon.port}` });
  t.after(() => exporter.shutdown());

  const { record, under } = makeTracing();
  const handler = record('handler', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  const query = record(
    'pg.query',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.name': 'test' } },
    under(handler),
  );

  const result = await exportSpans(exporter, [handler, query]);
  assert.equal(result.code, ExportResultCode.SUCCESS);

  const datagrams = await daemon.next(2);
  const documents = datagrams.map(parseDatagram);
  for (const document of documents) assertValidDocument(document);
  const segment = documents.find((document) => document.id === handler.spanContext().spanId);
  const subsegment = documents.find((document) => document.id === query.spanContext().spanId);
  assert.ok(segment !== undefined && subsegment !== undefined);

  const traceId = handler.spanContext().traceId;
  const xrayTraceId = `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
  assert.equal(segment.trace_id, xrayTraceId);
  assert.equal(segment.parent_id, LAMBDA_FACADE.spanId);
  assert.equal(segment.type, undefined);
  assert.equal(subsegment.trace_id, xrayTraceId);
  assert.equal(subsegment.parent_id, handler.spanContext().spanId);
  assert.equal(subsegment.type, 'subsegment');
  assert.equal(exporter.stats.sentDatagrams, 2);
});

test('a span over 64 KB arrives shortened, in one datagram under the limit', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${daemon.port}` });
  t.after(() => exporter.shutdown());

  const { record } = makeTracing();
  const big = record(
    'big',
    { kind: SpanKind.SERVER, attributes: { payload: 'z'.repeat(150_000) } },
    LAMBDA_CONTEXT,
  );
  assert.equal((await exportSpans(exporter, [big])).code, ExportResultCode.SUCCESS);

  const [datagram] = await daemon.next(1);
  assert.ok(datagram.length <= MAX_DATAGRAM_BYTES, `${datagram.length} bytes`);
  const document = parseDatagram(datagram);
  assertValidDocument(document);
  assert.equal(document.id, big.spanContext().spanId);
  assert.ok(exporter.stats.truncatedValues > 0);
});

test('with no daemon listening, export calls back promptly and never throws', async (t) => {
  const closedPort = await unusedUdpPort();

  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${closedPort}` });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const spans = Array.from({ length: 5 }, (_, index) =>
    record(`s${index}`, { kind: SpanKind.SERVER }, LAMBDA_CONTEXT),
  );

  for (let round = 0; round < 3; round += 1) {
    const started = performance.now();
    const result = await exportSpans(exporter, spans);
    const elapsed = performance.now() - started;
    // Refused datagrams are counted, not failures: no daemon is not the function's problem.
    assert.equal(result.code, ExportResultCode.SUCCESS, `round ${round}`);
    assert.ok(elapsed < 500, `round ${round} took ${elapsed} ms`);
  }
  await exporter.forceFlush();
});

test('a malformed address still exports (to the default), and after shutdown export fails', async () => {
  const exporter = new XRayUdpExporter({ address: 'nonsense' });
  assert.deepEqual(exporter.address, { host: '127.0.0.1', port: 2000 });
  const { record } = makeTracing();
  const span = record('s', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  assert.equal((await exportSpans(exporter, [])).code, ExportResultCode.SUCCESS);
  await exporter.shutdown();
  await exporter.shutdown();
  const result = await exportSpans(exporter, [span]);
  assert.equal(result.code, ExportResultCode.FAILED);
});

test('the socket never keeps the process alive', async () => {
  // A child process exports one span to a port nobody reads and must exit on its own.
  const exporterUrl = new URL('../../../src/xray/udp-exporter.js', import.meta.url).href;
  const script = `
    const { XRayUdpExporter } = await import(${JSON.stringify(exporterUrl)});
    const exporter = new XRayUdpExporter({ address: '127.0.0.1:9' });
    const span = {
      name: 'child', kind: 1, spanContext: () => ({ traceId: '5f84c7a0bb5ab5f0b0c1d2e3f4a5b6c7', spanId: '53995c3f42cd8ad8', traceFlags: 1 }),
      startTime: [1700000000, 0], endTime: [1700000001, 0], ended: true, status: { code: 0 },
      attributes: {}, links: [], events: [], resource: { attributes: {} },
    };
    exporter.export([span], (result) => { process.stdout.write('exported ' + result.code); });
  `;
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    timeout: 10_000,
  });
  assert.equal(stdout, 'exported 0');
  assert.ok(performance.now() - started < 5000, 'the process was kept alive after the export');
});

/** Exports and tells whether the exporter called back before `export` returned. */
function exportNoting(
  exporter: XRayUdpExporter,
  spans: ReadableSpan[],
): Promise<ExportResult & { inline: boolean }> {
  return new Promise((resolve) => {
    let returned = false;
    exporter.export(spans, (result) => resolve({ ...result, inline: !returned }));
    returned = true;
  });
}

/** Exports `span` until an export calls back inline (the connected socket is in use), at most 50 times. */
async function exportUntilConnected(exporter: XRayUdpExporter, span: ReadableSpan): Promise<number> {
  for (let exports = 1; exports <= 50; exports += 1) {
    const result = await exportNoting(exporter, [span]);
    assert.equal(result.code, ExportResultCode.SUCCESS);
    if (result.inline) return exports;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail('no export went over the connected socket');
}

test('to an IP address, later exports send on a connected socket and call back at once, same bytes', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${daemon.port}` });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const span = record('handler', { kind: SpanKind.SERVER, attributes: { 'ü.key': 'välue' } }, LAMBDA_CONTEXT);

  const first = await exportNoting(exporter, [span]);
  assert.equal(first.code, ExportResultCode.SUCCESS);
  assert.equal(first.inline, false, 'the first export waits for the connection');
  const exports = 1 + (await exportUntilConnected(exporter, span));
  const connected = await exportNoting(exporter, [span, span]);
  assert.deepEqual(
    { code: connected.code, inline: connected.inline },
    { code: ExportResultCode.SUCCESS, inline: true },
  );

  const datagrams = await daemon.next(exports + 2);
  for (const datagram of datagrams) assert.deepEqual(datagram, datagrams[0], 'every datagram the same bytes');
  assertValidDocument(parseDatagram(datagrams[0]));
  await exporter.forceFlush();
  assert.equal(exporter.stats.sentDatagrams, exports + 2);
  assert.equal(exporter.stats.failedDatagrams, 0);
});

test('to a host name, every export keeps waiting for its send callbacks', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `localhost:${daemon.port}` });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const span = record('handler', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  for (let round = 0; round < 5; round += 1) {
    const result = await exportNoting(exporter, [span]);
    assert.deepEqual(
      { code: result.code, inline: result.inline },
      { code: ExportResultCode.SUCCESS, inline: false },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await daemon.next(5);
  assert.equal(exporter.stats.sentDatagrams, 5);
});

test('on a connected socket with no daemon listening, refused sends are counted, never thrown or failed', async (t) => {
  const closedPort = await unusedUdpPort();

  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${closedPort}` });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const span = record('s', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  const exports = await exportUntilConnected(exporter, span);
  // Back to back, so that the ICMP "port unreachable" of one send fails the next (which is then not
  // sent: sends alternate sent and refused); one send in CHECK_EVERY, an odd number, has a callback
  // to tell, so that half of the 40 checked sends see a refusal, whatever ran before this test.
  const count = 20 * CHECK_EVERY;
  const results = await Promise.all(
    Array.from({ length: count }, () => exportNoting(exporter, [span, span])),
  );
  for (const result of results) assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
  await exporter.forceFlush();
  const { sentDatagrams, failedDatagrams } = exporter.stats;
  assert.equal(sentDatagrams + failedDatagrams, exports + 2 * count);
  assert.ok(failedDatagrams > 0, 'the refusals were seen and counted');
  assert.equal((await exportNoting(exporter, [span])).code, ExportResultCode.SUCCESS);
});

/**
 * An exporter to a stand-in daemon at an IP address, allowed datagrams larger than UDP takes, so
 * that the OS refuses (EMSGSIZE) the send of `big`'s document and takes `small`'s.
 */
async function oversizeExporter(t: TestContext) {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${daemon.port}`, maxDatagramBytes: 200_000 });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const small = record('small', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  const big = record(
    'big',
    { kind: SpanKind.SERVER, attributes: { payload: 'z'.repeat(100_000) } },
    LAMBDA_CONTEXT,
  );
  return { daemon, exporter, small, big };
}

test('a send the OS refuses after its export called back is reported with the next export', async (t) => {
  const { exporter, small, big } = await oversizeExporter(t);

  await exportUntilConnected(exporter, small);
  const failedBefore = exporter.stats.failedDatagrams;

  // Of CHECK_EVERY sends in a row, one at least is checked.
  for (let index = 0; index < CHECK_EVERY; index += 1) {
    const refused = await exportNoting(exporter, [big]);
    assert.equal(refused.code, ExportResultCode.SUCCESS, 'not waited for');
  }
  await exporter.forceFlush();
  assert.ok(exporter.stats.failedDatagrams > failedBefore, 'the refusal was seen');
  const next = await exportNoting(exporter, [small]);
  assert.equal(next.code, ExportResultCode.FAILED);
  assert.match(next.error?.message ?? '', /\d+ datagrams of earlier exports were not sent/);
  assert.equal((await exportNoting(exporter, [small])).code, ExportResultCode.SUCCESS, 'reported once');
});

test('on the connected socket, one send in CHECK_EVERY has a callback, and every send while they fail', async (t) => {
  const { daemon, exporter, small, big } = await oversizeExporter(t);
  const exports = await exportUntilConnected(exporter, small);

  // Which sends pass a callback, seen on the real socket's send.
  const withCallback: boolean[] = [];
  const realSend = Socket.prototype.send;
  Socket.prototype.send = function (this: Socket, ...args: unknown[]) {
    withCallback.push(typeof args.at(-1) === 'function');
    return (realSend as (...all: unknown[]) => void).apply(this, args);
  } as typeof realSend;
  t.after(() => {
    Socket.prototype.send = realSend;
  });
  // One export per turn of the event loop, as invocations come: a send's callback runs in between.
  const exportAll = async (span: ReadableSpan, times: number) => {
    for (let index = 0; index < times; index += 1) {
      await exportNoting(exporter, [span]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await exportAll(small, 2 * CHECK_EVERY);
  assert.equal(withCallback.filter(Boolean).length, 2, `callbacks: ${withCallback.join(', ')}`);
  await daemon.next(exports + 2 * CHECK_EVERY);

  // Refused (EMSGSIZE): once a checked send failed, every send is checked until one succeeds.
  withCallback.length = 0;
  await exportAll(big, CHECK_EVERY + 3);
  await exportAll(small, 3);
  const bigChecked = withCallback.slice(0, CHECK_EVERY + 3);
  const firstChecked = bigChecked.indexOf(true);
  assert.ok(firstChecked >= 0 && firstChecked < CHECK_EVERY, `callbacks: ${withCallback.join(', ')}`);
  assert.ok(
    bigChecked.slice(firstChecked).every(Boolean),
    `every send after the first refused one is checked: ${withCallback.join(', ')}`,
  );
  assert.deepEqual(withCallback.slice(CHECK_EVERY + 3), [true, false, false], 'until one succeeds');
  await exporter.forceFlush();
  assert.equal(exporter.stats.failedDatagrams, CHECK_EVERY + 3 - firstChecked);
});

test('to a host name, a send the OS refuses fails its own export', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `localhost:${daemon.port}`, maxDatagramBytes: 200_000 });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const big = record(
    'big',
    { kind: SpanKind.SERVER, attributes: { payload: 'z'.repeat(100_000) } },
    LAMBDA_CONTEXT,
  );
  const waited = await exportNoting(exporter, [big]);
  assert.equal(waited.inline, false);
  assert.equal(waited.code, ExportResultCode.FAILED, 'the unconnected path waits and reports it');
  assert.match(waited.error?.message ?? '', /1 of 1 datagrams to the daemon were not sent/);
});

test('to an IP address, one socket: the first export connects it, later ones reuse it', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${daemon.port}` });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const span = record('s', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  // Several exports before the connection is made all wait for it, and all go on the one socket.
  const early = await Promise.all([exportNoting(exporter, [span]), exportNoting(exporter, [span])]);
  for (const result of early) assert.equal(result.code, ExportResultCode.SUCCESS);
  assert.equal((await exportNoting(exporter, [span])).inline, true);
  await daemon.next(3);
  assert.equal(new Set(daemon.sourcePorts).size, 1, `sent from ports ${daemon.sourcePorts.join(', ')}`);
});

test('when the socket cannot be connected, exports stay on the unconnected path', async (t) => {
  // Linux refuses to connect a UDP socket to the broadcast address without SO_BROADCAST (EACCES),
  // and refuses each unconnected send there too: today's result, FAILED, with nothing thrown.
  const exporter = new XRayUdpExporter({ address: '255.255.255.255:2000' });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const span = record('s', { kind: SpanKind.SERVER }, LAMBDA_CONTEXT);
  for (let round = 0; round < 5; round += 1) {
    const result = await exportNoting(exporter, [span]);
    assert.equal(result.inline, false, `round ${round} waited for its send callback`);
    assert.equal(result.code, ExportResultCode.FAILED);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(exporter.stats.failedDatagrams, 5);
});

test('the list of indexed attributes is read when the exporter is made, not changed under its templates', async (t) => {
  const daemon = await startDaemon();
  t.after(() => daemon.socket.close());
  const indexed: string[] = [];
  const exporter = new XRayUdpExporter({ address: `127.0.0.1:${daemon.port}`, indexedAttributes: indexed });
  t.after(() => exporter.shutdown());
  const { record } = makeTracing();
  const span = () =>
    record('work', { kind: SpanKind.INTERNAL, attributes: { tenant: 'acme' } }, LAMBDA_CONTEXT);
  await exportSpans(exporter, [span(), span()]);
  indexed.push('tenant');
  // Templated or not (a span of a shape not met yet), the list is the one the exporter was made with.
  const other = record('other', { kind: SpanKind.INTERNAL, attributes: { tenant: 'acme' } }, LAMBDA_CONTEXT);
  await exportSpans(exporter, [span(), other]);
  const documents = (await daemon.next(4)).map(parseDatagram);
  for (const document of documents) {
    assert.equal(document.annotations?.tenant, undefined);
    assert.equal(document.metadata?.default?.tenant, 'acme');
  }
});
