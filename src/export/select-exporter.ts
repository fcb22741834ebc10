import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/load-config.js';
import type { UntracedExporter } from './lambda-span-processor.js';
import { createOtlpExporter } from './otlp-exporter.js';

/**
 * The exporter `OTEL_TRACES_EXPORTER` names: `otlp` (the collector extension), `xray` (the X-Ray
 * daemon over UDP) or `none`.
 */
export function createSpanExporter(config: Readonly<Config>): SpanExporter {
  switch (config.exporter) {
    case 'none':
      return { export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }), shutdown: async () => {} };
    case 'xray':
      // Imported on the first export, not at start-up: the translation to segment documents and
      // node:dgram are not evaluated in the cold start of functions that export over OTLP.
      return new DeferredExporter(async () => {
        const { XRayUdpExporter } = await import('../xray/udp-exporter.js');
        return new XRayUdpExporter({
          address: config.xrayDaemonAddress,
          indexedAttributes: config.xrayIndexedAttributes,
        });
      });
    case 'otlp':
      return createOtlpExporter(config);
  }
}

/**
 * A `SpanExporter` whose real exporter is created asynchronously on the first export. An exporter
 * that cannot be created fails each export (reported by the span processor) and never throws.
 */
export class DeferredExporter implements SpanExporter, UntracedExporter {
  private exporter: Promise<SpanExporter> | undefined;
  /** The exporter once created: later exports call it directly, without a promise step. */
  private ready: SpanExporter | undefined;

  constructor(private readonly create: () => Promise<SpanExporter>) {}

  /** As the exporter it created says (see `UntracedExporter`); `false` until it is created. */
  get sendsUntraced(): boolean {
    return (this.ready as Partial<UntracedExporter> | undefined)?.sendsUntraced === true;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.ready) {
      this.ready.export(spans, resultCallback);
      return;
    }
    this.exporter ??= this.create().then((exporter) => {
      this.ready = exporter;
      return exporter;
    });
    this.exporter.then(
      (exporter) => exporter.export(spans, resultCallback),
      (error: unknown) =>
        resultCallback({
          code: ExportResultCode.FAILED,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    );
  }

  async forceFlush(): Promise<void> {
    const exporter = await this.exporter?.catch(() => undefined);
    await exporter?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    const exporter = await this.exporter?.catch(() => undefined);
    await exporter?.shutdown();
  }
}
