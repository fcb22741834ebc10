import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { parse } from 'yaml';
import { installedExtensions } from '../../../src/config/lambda-extensions.js';
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

/** The extensions Lambda would run, as `installedExtensions` reports them. */
const opt = (...names: string[]) => ({ folder: '/opt/extensions', names });

test('OTEL_TRACES_EXPORTER selects otlp, xray or none; anything else warns and uses the default', () => {
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'XRAY' }, opt('collector')).config.exporter, 'xray');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: ' otlp ' }).config.exporter, 'otlp');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).config.exporter, 'none');
  const withCollector = loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }, opt('collector'));
  assert.equal(withCollector.config.exporter, 'otlp');
  assert.deepEqual(withCollector.warnings, ['OTEL_TRACES_EXPORTER value "zipkin" invalid, using otlp']);
  const without = loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' });
  assert.equal(without.config.exporter, 'xray');
  assert.deepEqual(without.warnings, ['OTEL_TRACES_EXPORTER value "zipkin" invalid, using xray']);
  assert.equal(
    loadConfig({ AWS_XRAY_DAEMON_ADDRESS: ' 169.254.79.129:2000 ' }).config.xrayDaemonAddress,
    '169.254.79.129:2000',
  );
});

describe('the exporter when OTEL_TRACES_EXPORTER names none', () => {
  const daemonEnv = { AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000' };

  test('no collector: the X-Ray daemon, said nowhere (it is the documented default)', () => {
    const { config, warnings, notices, exporterChosenBy } = loadConfig(daemonEnv, opt());
    assert.equal(config.exporter, 'xray');
    assert.deepEqual(warnings, []);
    assert.deepEqual(notices, []);
    assert.equal(
      exporterChosenBy,
      'no collector extension (/opt/extensions/collector) and no OTEL_EXPORTER_OTLP_* variable',
    );
    assert.equal(
      loadConfig({ ...daemonEnv, OTEL_TRACES_EXPORTER: 'xray' }).exporterChosenBy,
      'OTEL_TRACES_EXPORTER',
    );
  });

  test('the collector extension installed: OTLP to it', () => {
    const { config, notices, exporterChosenBy } = loadConfig(
      daemonEnv,
      opt('cloudwatch_lambda_agent', 'collector'),
    );
    assert.equal(config.exporter, 'otlp');
    assert.equal(exporterChosenBy, 'the collector extension (/opt/extensions/collector)');
    assert.equal(config.otlpEndpoint, 'http://localhost:4318/v1/traces');
    assert.deepEqual(notices, []);
  });

  for (const name of [
    'OPENTELEMETRY_COLLECTOR_CONFIG_URI',
    'OPENTELEMETRY_COLLECTOR_CONFIG_FILE',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    'OTEL_EXPORTER_OTLP_TIMEOUT',
    'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
    'OTEL_EXPORTER_OTLP_COMPRESSION',
    'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE',
  ]) {
    test(`${name} set: OTLP, though no extension is seen`, () => {
      const value = name.includes('ENDPOINT')
        ? 'http://collector:4318'
        : name.includes('PROTOCOL')
          ? 'grpc'
          : name.includes('HEADERS')
            ? 'x-team=a'
            : name.includes('TIMEOUT')
              ? '1000'
              : name.startsWith('OTEL_')
                ? 'gzip'
                : '/var/task/collector.yaml';
      const chosen = loadConfig({ ...daemonEnv, [name]: value }, opt());
      assert.equal(chosen.config.exporter, 'otlp');
      assert.equal(chosen.exporterChosenBy, `${name} is set`);
      // Empty is unset (as everywhere in the configuration).
      assert.equal(loadConfig({ ...daemonEnv, [name]: '  ' }, opt()).config.exporter, 'xray');
    });
  }

  test('other extensions but none named collector: the daemon, with one notice saying how to choose OTLP', () => {
    const { config, warnings, notices } = loadConfig(daemonEnv, opt('cloudwatch_lambda_agent', 'my-otel'));
    assert.equal(config.exporter, 'xray');
    assert.deepEqual(warnings, []);
    assert.deepEqual(notices, [
      'no collector extension (/opt/extensions/collector; found cloudwatch_lambda_agent, my-otel) and no OTEL_EXPORTER_OTLP_* variable: spans go to the X-Ray daemon at 169.254.79.129:2000; set OTEL_TRACES_EXPORTER=otlp to send them to a collector',
    ]);
    // A tcp/udp pair: the notice names where the datagrams go.
    assert.match(
      loadConfig({ AWS_XRAY_DAEMON_ADDRESS: 'tcp:10.0.0.1:2000 udp:10.0.0.2:2001' }, opt('my-otel'))
        .notices[0] ?? '',
      /spans go to the X-Ray daemon at 10\.0\.0\.2:2001;/,
    );
    // A collector found beside a local build of the layer is named where it was found.
    assert.equal(
      loadConfig(daemonEnv, { folder: '/work/dist/layer/extensions', names: ['collector'] }).exporterChosenBy,
      'the collector extension (/work/dist/layer/extensions/collector)',
    );
    // Named explicitly, the exporter needs no notice.
    assert.deepEqual(loadConfig({ ...daemonEnv, OTEL_TRACES_EXPORTER: 'xray' }, opt('my-otel')).notices, []);
    assert.deepEqual(loadConfig({ ...daemonEnv, OTEL_TRACES_EXPORTER: 'otlp' }, opt('my-otel')).notices, []);
  });
});

describe('installedExtensions', () => {
  test('reads the extensions folder beside the layer otel-handler points at, /opt/extensions in Lambda', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'layer-'));
    try {
      mkdirSync(path.join(root, 'extensions'));
      writeFileSync(path.join(root, 'extensions', 'telemetry-agent'), '');
      writeFileSync(path.join(root, 'extensions', 'collector'), '');
      const entry = path.join(root, 'otel-lambda-xray', 'handler.handler');
      assert.deepEqual(installedExtensions({ _HANDLER: entry }), {
        folder: path.join(root, 'extensions'),
        names: ['collector', 'telemetry-agent'],
      });
      // Unpacked into /opt, as in Lambda.
      assert.equal(
        installedExtensions({ _HANDLER: '/opt/otel-lambda-xray/handler.handler' }).folder,
        '/opt/extensions',
      );
      // A _HANDLER that is not this layer's entry says nothing of where the layer is.
      assert.equal(installedExtensions({ _HANDLER: 'index.handler' }).folder, '/opt/extensions');
      // A layer copied into the function's code: Lambda runs no extension from there.
      assert.equal(
        installedExtensions({ _HANDLER: entry, LAMBDA_TASK_ROOT: root }).folder,
        '/opt/extensions',
      );
      assert.equal(
        installedExtensions({ _HANDLER: entry, LAMBDA_TASK_ROOT: path.join(root, 'task') }).folder,
        path.join(root, 'extensions'),
      );
      // No extensions folder: none, and no error.
      const bare = installedExtensions({
        _HANDLER: path.join(root, 'nested', 'otel-lambda-xray', 'handler.handler'),
      });
      assert.deepEqual(bare, { folder: path.join(root, 'nested', 'extensions'), names: [] });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
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
  // Until it exists, exports run with tracing suppressed; then as the UDP exporter says: untraced.
  assert.equal(exporter.sendsUntraced, false);
  const { record } = makeTracing();
  const span = record('handler', { kind: 1, attributes: { 'tenant.id': 'acme' } }, LAMBDA_CONTEXT);
  assert.equal((await exportOnce(exporter, [span])).code, ExportResultCode.SUCCESS);
  assert.equal(exporter.sendsUntraced, true);
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
