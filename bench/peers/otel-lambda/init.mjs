// The OpenTelemetry Lambda layer's preload (open-telemetry/opentelemetry-lambda
// nodejs/packages/layer/src/init.mjs, wrapper.ts and loader.mjs), redone for the benchmark on
// @opentelemetry/auto-instrumentations-node: the layer's default instrumentation list (overridable
// with OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS) plus aws-sdk and
// aws-lambda, patched before the provider exists; then a provider with the awsLambda, env and process
// resource detectors, a BatchSpanProcessor on the OTLP http/protobuf exporter and the propagators of
// OTEL_PROPAGATORS; the aws-lambda instrumentation force-flushes it after each invocation. Metrics and
// logs providers, which the layer starts unless OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER are `none`,
// are left out (the benchmark sets both to `none`).
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { context, DiagConsoleLogger, diag, propagation, trace } from '@opentelemetry/api';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  diagLogLevelFromString,
  getStringFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { awsLambdaDetector } from '@opentelemetry/resource-detector-aws';
import { detectResources, envDetector, processDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

diag.setLogger(new DiagConsoleLogger(), diagLogLevelFromString(getStringFromEnv('OTEL_LOG_LEVEL')));

// wrapper.ts: `defaultInstrumentationList`, used when OTEL_NODE_ENABLED_INSTRUMENTATIONS is unset.
const LAYER_DEFAULTS = [
  'dns',
  'express',
  'graphql',
  'grpc',
  'hapi',
  'http',
  'ioredis',
  'koa',
  'mongodb',
  'mysql',
  'net',
  'pg',
  'redis',
];
const listFromEnv = (name) =>
  process.env[name]
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const active = new Set(listFromEnv('OTEL_NODE_ENABLED_INSTRUMENTATIONS') ?? LAYER_DEFAULTS);
for (const name of listFromEnv('OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? []) active.delete(name);
// wrapper.ts adds these two whatever the lists say.
active.add('aws-sdk');
active.add('aws-lambda');
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = [...active].join(',');
delete process.env.OTEL_NODE_DISABLED_INSTRUMENTATIONS;

// init(): patch first, so modules required before the provider is ready are still caught.
const instrumentations = getNodeAutoInstrumentations({
  '@opentelemetry/instrumentation-aws-sdk': { suppressInternalInstrumentation: true },
});
registerInstrumentations({ instrumentations });

// wrap() -> initializeProvider().
const resource = detectResources({ detectors: [awsLambdaDetector, envDetector, processDetector] });
const provider = new TracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
});
const PROPAGATORS = new Map([
  ['tracecontext', () => new W3CTraceContextPropagator()],
  ['baggage', () => new W3CBaggagePropagator()],
  ['xray', () => new AWSXRayPropagator()],
]);
const names = [
  ...new Set(
    listFromEnv('OTEL_PROPAGATORS')?.map((name) => name.toLowerCase()) ?? ['tracecontext', 'baggage'],
  ),
];
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({ propagators: names.flatMap((name) => PROPAGATORS.get(name)?.() ?? []) }),
);
trace.setGlobalTracerProvider(provider);
registerInstrumentations({ instrumentations, tracerProvider: provider });

// loader.mjs: import-in-the-middle's hook only for an ESM handler (.mjs, or "type": "module").
const handlerPath = () => {
  const handler = process.env._HANDLER ?? '';
  const base = path.basename(handler);
  return path.resolve(
    process.env.LAMBDA_TASK_ROOT ?? '.',
    handler.slice(0, handler.length - base.length),
    base.split('.')[0] ?? '',
  );
};
const isTypeModule = (dir) => {
  for (let current = dir; !current.endsWith('/node_modules'); current = path.dirname(current)) {
    const manifest = path.join(current, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
    if (path.dirname(current) === current) return false;
  }
  return false;
};
const file = handlerPath();
const esm =
  existsSync(`${file}.mjs`) ||
  (!existsSync(`${file}.cjs`) && existsSync(`${file}.js`) && isTypeModule(path.dirname(file)));
if (esm) register('import-in-the-middle/hook.mjs', import.meta.url);
