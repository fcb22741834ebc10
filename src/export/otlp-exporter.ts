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
    settleWhenSent: settleWhenSent(config),
    url: config.otlpEndpoint,
    headers: { ...config.otlpHeaders },
    timeoutMillis: config.otlpTimeoutMs,
  });
}

/**
 * `OTEL_LAMBDA_XRAY_FLUSH_UNTIL`: whether an export is done once sent. `auto` says yes for a
 * collector on this host, the Lambda extension: it runs until Lambda tells it the invocation ended,
 * which comes after the response, so spans written to its socket before the response reach it;
 * waiting for its answer would only add its processing time to every invocation.
 */
export function settleWhenSent(config: Readonly<Config>): boolean {
  if (config.flushUntil === 'answered') return false;
  if (config.flushUntil === 'sent') return true;
  try {
    return isLoopbackHost(new URL(config.otlpEndpoint).hostname);
  } catch {
    return false;
  }
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]';
}
