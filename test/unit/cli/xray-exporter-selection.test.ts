import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { parse } from 'yaml';
import { DEFAULT_INDEXED_ATTRIBUTES, loadConfig } from '../../../src/config/load-config.js';
import { createSpanExporter, DeferredExporter } from '../../../src/export/select-exporter.js';
import { XRayUdpExporter } from '../../../src/xray/udp-exporter.js';
import { LAMBDA_CONTEXT, makeTracing } from '../xray/helpers.js';

test('the xray exporter indexes what the shipped collector configuration indexes', () => {
  const collector = parse(
    readFileSync(new URL('../../../../collector-config.yaml', import.meta.url), 'utf8'),
  );
  assert.deepEqual(DEFAULT_INDEXED_ATTRIBUTES, collector.exporters.awsxray.indexed_attributes);
  assert.deepEqual(loadConfig({}).config.xrayIndexedAttributes, DEFAULT_INDEXED_ATTRIBUTES);
  assert.deepEqual(
    loadConfig({ OTEL_LAMBDA_XRAY_INDEXED_ATTRIBUTES: ' tenant.id, ,faas.trigger ' }).config
      .xrayIndexedAttributes,
    ['tenant.id', 'faas.trigger'],
  );
  assert.deepEqual(loadConfig({ OTEL_LAMBDA_XRAY_INDEXED_ATTRIBUTES: '' }).config.xrayIndexedAttributes, []);
});

test('OTEL_TRACES_EXPORTER selects otlp (default), xray or none; anything else warns and uses otlp', () => {
  assert.equal(loadConfig({}).config.exporter, 'otlp');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'XRAY' }).config.exporter, 'xray');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).config.exporter, 'none');
  const { config, warnings } = loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' });
  assert.equal(config.exporter, 'otlp');
  assert.deepEqual(warnings, ['OTEL_TRACES_EXPORTER value "zipkin" invalid, using otlp']);
  assert.equal(
    loadConfig({ AWS_XRAY_DAEMON_ADDRESS: ' 169.254.79.129:2000 ' }).config.xrayDaemonAddress,
    '169.254.79.129:2000',
  );
});

function exportOnce(exporter: SpanExporter, spans: Parameters<SpanExporter['export']>[0]) {
  return new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
}

test('the xray exporter is created on the first export and sends to AWS_XRAY_DAEMON_ADDRESS', async () => {
  const daemon = createSocket('udp4');
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  const received = new Promise<string>((resolve) => daemon.once('message', (m) => resolve(m.toString())));
  const { config } = loadConfig({
    OTEL_TRACES_EXPORTER: 'xray',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    OTEL_LAMBDA_XRAY_INDEXED_ATTRIBUTES: 'tenant.id',
  });
  const exporter = createSpanExporter(config);
  assert.ok(exporter instanceof DeferredExporter);
  const { record } = makeTracing();
  const span = record('handler', { kind: 1, attributes: { 'tenant.id': 'acme' } }, LAMBDA_CONTEXT);
  assert.equal((await exportOnce(exporter, [span])).code, ExportResultCode.SUCCESS);
  const datagram = await received;
  assert.ok(datagram.startsWith('{"format":"json","version":1}\n'));
  assert.deepEqual(JSON.parse(datagram.split('\n')[1] ?? '').annotations, { tenant_id: 'acme' });
  await exporter.shutdown();
  daemon.close();
});

test('the deferred exporter creates nothing before the first export, and a failed creation fails exports', async () => {
  let created = 0;
  const lazy = new DeferredExporter(async () => {
    created++;
    return new XRayUdpExporter({ address: '127.0.0.1:9' });
  });
  await lazy.forceFlush();
  assert.equal(created, 0);
  const { record } = makeTracing();
  const span = record('handler', { kind: 1 }, LAMBDA_CONTEXT);
  // Nothing listens on the discard port: the datagram is lost, the export still succeeds at once.
  assert.equal((await exportOnce(lazy, [span])).code, ExportResultCode.SUCCESS);
  assert.equal((await exportOnce(lazy, [span])).code, ExportResultCode.SUCCESS);
  assert.equal(created, 1);
  await lazy.shutdown();

  const broken = new DeferredExporter(() => Promise.reject(new Error('cannot load')));
  const result = await exportOnce(broken, [span]);
  assert.equal(result.code, ExportResultCode.FAILED);
  assert.equal(result.error?.message, 'cannot load');
  await broken.shutdown();
});
