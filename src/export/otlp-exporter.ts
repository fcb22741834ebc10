import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/load-config.js';
import { LeanOtlpTraceExporter } from './otlp/lean-otlp-exporter.js';

/**
 * The OTLP exporter the layer uses, over HTTP or gRPC. Not the `@opentelemetry/exporter-trace-otlp-*`
 * packages: loading grpc-js and protobufjs took 75-100 ms on this project's machines, inside every
 * cold start, where this encoder loads in a few (the tests check both produce the same request).
 */
export function createOtlpExporter(config: Readonly<Config>): SpanExporter {
  return new LeanOtlpTraceExporter({
    protocol: config.otlpProtocol,
    url: config.otlpEndpoint,
    headers: { ...config.otlpHeaders },
    timeoutMillis: config.otlpTimeoutMs,
  });
}
