import { diag, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config, PropagatorName } from '../config/load-config.js';
import { rememberContextManager } from '../context/run-in-context.js';
import { ExportHealth } from '../export/export-health.js';
import { LambdaSpanProcessor } from '../export/lambda-span-processor.js';
import { createSpanExporter } from '../export/select-exporter.js';
import { DISTRO_NAME, DISTRO_VERSION, functionResourceAttributes } from '../lambda/function-resource.js';
import { InvocationTracer } from '../lambda/invocation.js';
import { XRayIdGenerator } from '../xray/id-generator.js';
import { shippedApiVersion, widenApiCompatibility } from './api-compat.js';

/** What the running layer holds on to. */
export interface TracingRuntime {
  readonly provider: NodeTracerProvider;
  readonly invocations: InvocationTracer;
}

/**
 * Builds and registers the tracer provider for a Lambda function: X-Ray trace IDs, the configured
 * sampler and propagators, and a processor that exports once per invocation.
 */
export function startTracing(
  config: Readonly<Config>,
  /** The function's code, where a copy of the API it ships would be. */
  taskRoot: string = process.env.LAMBDA_TASK_ROOT ?? process.cwd(),
): TracingRuntime {
  const health = new ExportHealth();
  const processor = new LambdaSpanProcessor({
    createExporter: () => createSpanExporter(config),
    maxQueuedSpans: config.maxQueuedSpans,
    health,
  });
  const sampler = createSampler(config);
  const provider = withoutSamplerVariables(
    () =>
      new NodeTracerProvider({
        resource: resourceFromAttributes(functionResourceAttributes(config)),
        idGenerator: new XRayIdGenerator(),
        sampler,
        spanProcessors: [processor],
      }),
  );
  provider.register({ propagator: createPropagator(config.propagators) });
  if (!widenApiCompatibility(shippedApiVersion(taskRoot))) {
    diag.debug('OpenTelemetry API globals not found; manual spans may be no-ops');
  }
  if (!rememberContextManager()) diag.debug('the global context manager is used through the API');
  const invocations = new InvocationTracer({
    tracer: provider.getTracer(DISTRO_NAME, DISTRO_VERSION),
    flush: () => processor.flushNow(),
    releaseExports: () => processor.releaseInFlight(),
    config,
    health,
  });
  return { provider, invocations };
}

const SAMPLER_VARIABLES = ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'] as const;

/**
 * Runs `build` with the sampler variables out of the environment. The SDK's provider builds a
 * sampler from them in its constructor even when it is given one, and logs its own error for a
 * value the layer reads differently (`Always_On`: any case here) or already warned about once.
 */
function withoutSamplerVariables<T>(build: () => T): T {
  const saved = SAMPLER_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const [name] of saved) delete process.env[name];
  try {
    return build();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

function createSampler(config: Readonly<Config>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function createPropagator(names: readonly PropagatorName[]): TextMapPropagator {
  const byName: Record<PropagatorName, () => TextMapPropagator> = {
    xray: () => new AWSXRayPropagator(),
    tracecontext: () => new W3CTraceContextPropagator(),
    baggage: () => new W3CBaggagePropagator(),
  };
  return new CompositePropagator({ propagators: names.map((name) => byName[name]()) });
}
