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
import { ExportHealth } from '../export/export-health.js';
import { LambdaSpanProcessor } from '../export/lambda-span-processor.js';
import { createSpanExporter } from '../export/select-exporter.js';
import { DISTRO_NAME, DISTRO_VERSION, functionResourceAttributes } from '../lambda/function-resource.js';
import { InvocationTracer } from '../lambda/invocation.js';
import { XRayIdGenerator } from '../xray/id-generator.js';
import { widenApiCompatibility } from './api-compat.js';

/** What the running layer holds on to. */
export interface TracingRuntime {
  readonly provider: NodeTracerProvider;
  readonly invocations: InvocationTracer;
}

/**
 * Builds and registers the tracer provider for a Lambda function: X-Ray trace IDs, the configured
 * sampler and propagators, and a processor that exports once per invocation.
 */
export function startTracing(config: Readonly<Config>): TracingRuntime {
  const health = new ExportHealth();
  const processor = new LambdaSpanProcessor({
    createExporter: () => createSpanExporter(config),
    maxQueuedSpans: config.maxQueuedSpans,
    health,
  });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes(functionResourceAttributes(config)),
    idGenerator: new XRayIdGenerator(),
    sampler: createSampler(config),
    spanProcessors: [processor],
  });
  provider.register({ propagator: createPropagator(config.propagators) });
  if (!widenApiCompatibility()) diag.debug('OpenTelemetry API globals not found; manual spans may be no-ops');
  const invocations = new InvocationTracer({
    tracer: provider.getTracer(DISTRO_NAME, DISTRO_VERSION),
    flush: () => processor.flushNow(),
    releaseExports: () => processor.releaseInFlight(),
    config,
    health,
  });
  return { provider, invocations };
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
