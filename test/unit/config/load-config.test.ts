import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DiagLogLevel } from '@opentelemetry/api';
import { loadConfig } from '../../../src/config/load-config.js';

const lambdaEnv = {
  AWS_LAMBDA_FUNCTION_NAME: 'orders-api',
  AWS_LAMBDA_FUNCTION_VERSION: '7',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/orders-api',
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/23/[7]abc',
  AWS_REGION: 'eu-west-1',
};

describe('loadConfig defaults', () => {
  // With the collector extension installed, as the quick start sets the function up.
  const { config, warnings } = loadConfig(lambdaEnv, { folder: '/opt/extensions', names: ['collector'] });

  test('no warnings for an environment without settings', () => {
    assert.deepEqual(warnings, []);
  });

  test('service name is the function name', () => {
    assert.equal(config.serviceName, 'orders-api');
  });

  test('export defaults: OTLP/HTTP to the local collector with small bounds', () => {
    assert.equal(config.exporter, 'otlp');
    assert.equal(config.otlpProtocol, 'http/protobuf');
    assert.equal(config.otlpEndpoint, 'http://localhost:4318/v1/traces');
    assert.equal(config.otlpTimeoutMs, 2000);
    assert.equal(config.flushTimeoutMs, 500);
    assert.equal(config.timeoutMarginMs, 500);
    assert.equal(config.maxQueuedSpans, 2048);
  });

  test('propagation, sampling and logging defaults', () => {
    assert.deepEqual(config.propagators, ['xray', 'tracecontext', 'baggage']);
    assert.equal(config.sampler, 'parentbased_always_on');
    assert.equal(config.samplerRatio, 1);
    assert.equal(config.logLevel, DiagLogLevel.INFO);
    assert.equal(config.disabled, false);
  });

  test('the Lambda environment is read', () => {
    assert.deepEqual(config.lambda, {
      functionName: 'orders-api',
      functionVersion: '7',
      memoryMb: 512,
      logGroup: '/aws/lambda/orders-api',
      logStream: '2026/11/23/[7]abc',
      region: 'eu-west-1',
    });
  });

  test('the configuration is frozen', () => {
    assert.ok(Object.isFrozen(config));
  });
});

describe('loadConfig accepted values', () => {
  test('OTEL_SERVICE_NAME overrides the function name', () => {
    assert.equal(loadConfig({ ...lambdaEnv, OTEL_SERVICE_NAME: 'orders' }).config.serviceName, 'orders');
  });

  test('OTEL_SDK_DISABLED true/false in any case', () => {
    assert.equal(loadConfig({ OTEL_SDK_DISABLED: 'TRUE' }).config.disabled, true);
    assert.equal(loadConfig({ OTEL_SDK_DISABLED: 'false' }).config.disabled, false);
  });

  test('every log level', () => {
    const levels: Record<string, DiagLogLevel> = {
      none: DiagLogLevel.NONE,
      error: DiagLogLevel.ERROR,
      warn: DiagLogLevel.WARN,
      info: DiagLogLevel.INFO,
      DEBUG: DiagLogLevel.DEBUG,
      verbose: DiagLogLevel.VERBOSE,
      all: DiagLogLevel.ALL,
    };
    for (const [value, level] of Object.entries(levels)) {
      const { config, warnings } = loadConfig({ OTEL_LOG_LEVEL: value });
      assert.equal(config.logLevel, level, value);
      assert.deepEqual(warnings, []);
    }
  });

  test('propagators: names, xray-lambda as xray, duplicates folded, none', () => {
    assert.deepEqual(loadConfig({ OTEL_PROPAGATORS: 'tracecontext, xray' }).config.propagators, [
      'tracecontext',
      'xray',
    ]);
    assert.deepEqual(loadConfig({ OTEL_PROPAGATORS: 'xray-lambda,xray,baggage' }).config.propagators, [
      'xray',
      'baggage',
    ]);
    assert.deepEqual(loadConfig({ OTEL_PROPAGATORS: 'none' }).config.propagators, []);
  });

  test('every sampler, and a ratio', () => {
    for (const sampler of [
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ]) {
      const { config, warnings } = loadConfig({
        OTEL_TRACES_SAMPLER: sampler,
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      });
      assert.equal(config.sampler, sampler);
      assert.equal(config.samplerRatio, 0.25);
      assert.deepEqual(warnings, []);
    }
    assert.equal(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '0' }).config.samplerRatio, 0);
    assert.equal(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '1' }).config.samplerRatio, 1);
  });

  test('exporter none', () => {
    assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).config.exporter, 'none');
  });

  test('the traces endpoint wins over the general one, and is used as given', () => {
    const { config } = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com:443/custom/path',
    });
    assert.equal(config.otlpEndpoint, 'https://traces.example.com:443/custom/path');
    const grpc = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com:443',
    });
    assert.equal(grpc.config.otlpEndpoint, 'https://traces.example.com:443');
  });

  test('OTLP/HTTP appends v1/traces to the general endpoint, slash or not', () => {
    const endpointFor = (value: string) =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: value }).config.otlpEndpoint;
    assert.equal(endpointFor('http://collector:4318'), 'http://collector:4318/v1/traces');
    assert.equal(endpointFor('http://collector:4318/'), 'http://collector:4318/v1/traces');
    assert.equal(
      endpointFor('https://gateway.example.com/otlp/'),
      'https://gateway.example.com/otlp/v1/traces',
    );
    // To the path, before the query string.
    assert.equal(
      endpointFor('https://gateway.example.com/otlp?tenant=a'),
      'https://gateway.example.com/otlp/v1/traces?tenant=a',
    );
  });

  test('grpc: the endpoint as given, 4317 by default; the traces protocol wins', () => {
    const grpc = loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    assert.equal(grpc.config.otlpProtocol, 'grpc');
    assert.equal(grpc.config.otlpEndpoint, 'http://localhost:4317');
    assert.deepEqual(grpc.warnings, []);
    const traces = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    });
    assert.equal(traces.config.otlpProtocol, 'http/protobuf');
    assert.equal(traces.config.otlpEndpoint, 'http://localhost:4318/v1/traces');
  });

  test('an endpoint on port 4317 with no protocol named: grpc, and one warning saying so', () => {
    const { config, warnings } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://10.0.0.1:4317' });
    assert.equal(config.otlpProtocol, 'grpc');
    assert.equal(config.otlpEndpoint, 'http://10.0.0.1:4317');
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^OTEL_EXPORTER_OTLP_ENDPOINT uses port 4317 .*OTEL_EXPORTER_OTLP_PROTOCOL is not set: exporting over grpc/,
    );
    const named = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://10.0.0.1:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    assert.equal(named.config.otlpProtocol, 'http/protobuf', 'a protocol named explicitly is obeyed');
    assert.deepEqual(named.warnings, []);
  });

  test('timeouts: the traces-specific variable wins; project variables', () => {
    const { config, warnings } = loadConfig({
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1500',
      OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '250',
      OTEL_LAMBDA_XRAY_TIMEOUT_MARGIN_MS: '800',
      OTEL_LAMBDA_XRAY_MAX_QUEUED_SPANS: '100',
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.otlpTimeoutMs, 1500);
    assert.equal(config.flushTimeoutMs, 250);
    assert.equal(config.timeoutMarginMs, 800);
    assert.equal(config.maxQueuedSpans, 100);
  });

  test('an empty traces-specific variable is unset: the general one applies (OpenTelemetry spec)', () => {
    const { config, warnings } = loadConfig({
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: '',
      OTEL_EXPORTER_OTLP_TIMEOUT: '10000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: ' ',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.otlpHeaders, { authorization: 'Bearer s3cr3t' });
    assert.equal(config.otlpTimeoutMs, 10000);
  });

  test('a timeout past what a timer can wait warns and is held at 2147483647 ms', () => {
    const { config, warnings } = loadConfig({
      OTEL_EXPORTER_OTLP_TIMEOUT: '3600000000',
      OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '2147483647',
    });
    assert.equal(config.otlpTimeoutMs, 2147483647);
    assert.equal(config.flushTimeoutMs, 2147483647);
    assert.deepEqual(warnings, [
      'OTEL_EXPORTER_OTLP_TIMEOUT value "3600000000" is more than a timer can wait, using 2147483647',
    ]);
  });

  test('OTLP headers the protocol cannot send are dropped at start-up, with a warning naming the variable', () => {
    const http = loadConfig({
      OTEL_EXPORTER_OTLP_HEADERS: 'Content-Type=application/json,x-tenant=caf%C3%A9,x-ok=1',
    });
    assert.deepEqual(http.config.otlpHeaders, { 'x-ok': '1' });
    assert.deepEqual(http.warnings, [
      "OTEL_EXPORTER_OTLP_HEADERS: header 'Content-Type' is not usable as an HTTP header; dropped",
      "OTEL_EXPORTER_OTLP_HEADERS: the value of header 'x-tenant' is not printable ASCII; header dropped",
    ]);
    const grpc = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'grpc-timeout=5S,X-Team=payments',
    });
    assert.deepEqual(grpc.config.otlpHeaders, { 'x-team': 'payments' });
    assert.deepEqual(grpc.warnings, [
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS: header 'grpc-timeout' is not usable as gRPC metadata; dropped",
    ]);
  });

  test('resource attributes are parsed and percent-decoded', () => {
    const { config, warnings } = loadConfig({
      OTEL_RESOURCE_ATTRIBUTES: 'team=payments, deployment.environment=prod%20eu',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.resourceAttributes, { team: 'payments', 'deployment.environment': 'prod eu' });
  });

  test('OTLP headers: the traces variable wins; values are decoded; a bad entry is named by position only', () => {
    const { config, warnings } = loadConfig({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-general=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS:
        'authorization=Bearer%20s3cr3t,x-team=payments,leaked-secret-no-equals',
    });
    assert.deepEqual(config.otlpHeaders, { authorization: 'Bearer s3cr3t', 'x-team': 'payments' });
    assert.deepEqual(warnings, [
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS value "entry #3" invalid, using the other entries',
    ]);
    assert.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'x-general=1' }).config.otlpHeaders, {
      'x-general': '1',
    });
    assert.deepEqual(loadConfig({}).config.otlpHeaders, {});
  });

  test('the original handler comes from the wrapper variable', () => {
    assert.equal(
      loadConfig({ OTEL_LAMBDA_XRAY_ORIGINAL_HANDLER: 'src/app.handler' }).config.originalHandler,
      'src/app.handler',
    );
    assert.equal(loadConfig({}).config.originalHandler, undefined);
  });
});

describe('loadConfig rejected values: one warning naming the variable and the value used', () => {
  const cases: Array<
    [Record<string, string>, string, (c: ReturnType<typeof loadConfig>['config']) => unknown, unknown]
  > = [
    [
      { OTEL_SDK_DISABLED: 'yes' },
      'OTEL_SDK_DISABLED value "yes" invalid, using false',
      (c) => c.disabled,
      false,
    ],
    [
      { OTEL_LOG_LEVEL: 'loud' },
      'OTEL_LOG_LEVEL value "loud" invalid, using info',
      (c) => c.logLevel,
      DiagLogLevel.INFO,
    ],
    [
      { OTEL_TRACES_SAMPLER: 'sometimes' },
      'OTEL_TRACES_SAMPLER value "sometimes" invalid, using parentbased_always_on',
      (c) => c.sampler,
      'parentbased_always_on',
    ],
    [
      { OTEL_TRACES_SAMPLER_ARG: '1.5' },
      'OTEL_TRACES_SAMPLER_ARG value "1.5" invalid, using 1',
      (c) => c.samplerRatio,
      1,
    ],
    [
      { OTEL_TRACES_SAMPLER_ARG: '-0.1' },
      'OTEL_TRACES_SAMPLER_ARG value "-0.1" invalid, using 1',
      (c) => c.samplerRatio,
      1,
    ],
    [
      { OTEL_TRACES_EXPORTER: 'zipkin' },
      'OTEL_TRACES_EXPORTER value "zipkin" invalid, using xray',
      (c) => c.exporter,
      'xray',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4317' },
      'OTEL_EXPORTER_OTLP_ENDPOINT value "localhost:4317" invalid, using http://localhost:4318/v1/traces',
      (c) => c.otlpEndpoint,
      'http://localhost:4318/v1/traces',
    ],
    [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT value "ftp://collector" invalid, using http://localhost:4317',
      (c) => c.otlpEndpoint,
      'http://localhost:4317',
    ],
    [
      { OTEL_LAMBDA_XRAY_FLUSH_UNTIL: 'acked' },
      'OTEL_LAMBDA_XRAY_FLUSH_UNTIL value "acked" invalid, using auto',
      (c) => c.flushUntil,
      'auto',
    ],
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      'OTEL_EXPORTER_OTLP_PROTOCOL value "http/json" invalid, using http/protobuf',
      (c) => c.otlpProtocol,
      'http/protobuf',
    ],
    [
      { OTEL_EXPORTER_OTLP_TIMEOUT: '2s' },
      'OTEL_EXPORTER_OTLP_TIMEOUT value "2s" invalid, using 2000',
      (c) => c.otlpTimeoutMs,
      2000,
    ],
    [
      { OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: 'abc' },
      'OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS value "abc" invalid, using 500',
      (c) => c.flushTimeoutMs,
      500,
    ],
    [
      { OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS: '0' },
      'OTEL_LAMBDA_XRAY_FLUSH_TIMEOUT_MS value "0" invalid, using 500',
      (c) => c.flushTimeoutMs,
      500,
    ],
    [
      { OTEL_LAMBDA_XRAY_TIMEOUT_MARGIN_MS: '-5' },
      'OTEL_LAMBDA_XRAY_TIMEOUT_MARGIN_MS value "-5" invalid, using 500',
      (c) => c.timeoutMarginMs,
      500,
    ],
    [
      { OTEL_LAMBDA_XRAY_MAX_QUEUED_SPANS: '1e3' },
      'OTEL_LAMBDA_XRAY_MAX_QUEUED_SPANS value "1e3" invalid, using 2048',
      (c) => c.maxQueuedSpans,
      2048,
    ],
    [
      { OTEL_PROPAGATORS: 'b3,xray' },
      'OTEL_PROPAGATORS value "b3" is not a known propagator, using xray',
      (c) => c.propagators,
      ['xray'],
    ],
    [
      { OTEL_PROPAGATORS: 'jaeger' },
      'OTEL_PROPAGATORS value "jaeger" is not a known propagator, using xray,tracecontext,baggage',
      (c) => c.propagators,
      ['xray', 'tracecontext', 'baggage'],
    ],
    [
      { OTEL_RESOURCE_ATTRIBUTES: 'team=payments,broken' },
      'OTEL_RESOURCE_ATTRIBUTES value "broken" invalid, using the other entries',
      (c) => c.resourceAttributes,
      { team: 'payments' },
    ],
  ];
  for (const [env, warning, read, expected] of cases) {
    test(
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      () => {
        const { config, warnings } = loadConfig(env);
        assert.deepEqual(warnings, [warning]);
        assert.deepEqual(read(config), expected);
      },
    );
  }

  test('an unknown instrumentation name is reported and ignored', () => {
    const { config, warnings } = loadConfig({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'mongoose' });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^OTEL_NODE_DISABLED_INSTRUMENTATIONS names unknown instrumentation "mongoose"/,
    );
    assert.equal(config.instrumentations.has('mongoose'), false);
  });

  test('several bad variables give one warning each, and empty values count as unset', () => {
    const { warnings } = loadConfig({
      OTEL_LOG_LEVEL: 'x',
      OTEL_TRACES_EXPORTER: 'y',
      OTEL_SERVICE_NAME: '',
      OTEL_PROPAGATORS: '',
    });
    assert.equal(warnings.length, 2);
  });
});
