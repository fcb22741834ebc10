import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/load-config.js';

/**
 * Builds the OTLP/gRPC exporter. Called on the first export only: gRPC and protobuf are the
 * heaviest modules the layer carries, and loading them inside the cold start would delay every
 * cold start by their load time, sampled or not. (Bundled, the dynamic import stays lazy.)
 */
export async function createOtlpGrpcExporter(config: Readonly<Config>): Promise<SpanExporter> {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
  // Headers (`OTEL_EXPORTER_OTLP_*HEADERS`), compression and certificates are read by the exporter.
  return new OTLPTraceExporter({ url: config.otlpEndpoint, timeoutMillis: config.otlpTimeoutMs });
}
