import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/load-config.js';
import { LeanOtlpTraceExporter } from './otlp-grpc/lean-otlp-exporter.js';

/**
 * The OTLP/gRPC exporter the layer uses. Not `@opentelemetry/exporter-trace-otlp-grpc`: loading
 * grpc-js and protobufjs took 75-100 ms on this project's machines, inside every cold start, where
 * this encoder on `node:http2` loads in a few (the tests check both produce the same request).
 */
export function createOtlpGrpcExporter(config: Readonly<Config>): SpanExporter {
  return new LeanOtlpTraceExporter({
    url: config.otlpEndpoint,
    headers: { ...config.otlpHeaders },
    timeoutMillis: config.otlpTimeoutMs,
  });
}
