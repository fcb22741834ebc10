import { type Context, diag, ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { runInContext } from '../context/run-in-context.js';
import type { ExportHealth } from './export-health.js';

/**
 * The context exports run in: tracing suppressed, so the exporter's own calls (HTTP to the
 * collector, UDP to the daemon) are not traced by the layer's instrumentations and exported, forever.
 * Made once: an export needs no parent.
 */
const EXPORT_CONTEXT = suppressTracing(ROOT_CONTEXT);

/** An exporter whose requests in flight can stop keeping the process alive. */
export interface ReleasableExporter {
  releaseInFlight(): void;
}

/**
 * An exporter whose sends no instrumentation of the layer traces (UDP to the daemon, through
 * `node:dgram`): its exports need not run in the suppressed context, which would cost a context
 * switch on every invocation's flush.
 */
export interface UntracedExporter {
  readonly sendsUntraced: boolean;
}

/** What the processor needs to know; resolved from configuration by the bootstrap. */
export interface LambdaSpanProcessorConfig {
  /** Creates the exporter on the first export: no connection is set up for a function that never exports. */
  readonly createExporter: () => SpanExporter;
  readonly maxQueuedSpans: number;
  readonly health: ExportHealth;
}

/**
 * Keeps an invocation's finished spans in memory and exports them in one request when the
 * invocation flushes. The SDK's batch processor exports on a timer, and timers do not fire while
 * Lambda has the process frozen, so its spans would leave late or never.
 */
export class LambdaSpanProcessor implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private droppedSpans = 0;
  private exporter: SpanExporter | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly config: LambdaSpanProcessorConfig) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.config.maxQueuedSpans) {
      this.droppedSpans++;
      return;
    }
    this.queue.push(span);
  }

  /** Exports everything queued so far; resolves when that export (and any still running) ended. */
  forceFlush(): Promise<void> {
    return this.flushNow() ?? Promise.resolve();
  }

  /**
   * As {@link forceFlush}, but `undefined` when no export is left running once it returns: the
   * exporters call back at once when their bytes were handed over (see `Flush`), and the response
   * then waits for no promise.
   */
  flushNow(): Promise<void> | undefined {
    if (this.droppedSpans > 0) {
      diag.debug(`dropped ${this.droppedSpans} spans: more than ${this.config.maxQueuedSpans} were queued`);
      this.droppedSpans = 0;
    }
    const batch = this.queue;
    if (batch.length > 0) {
      this.queue = [];
      this.exportBatch(batch);
    }
    if (this.pending.size === 0) return undefined;
    if (this.pending.size === 1) return this.pending.values().next().value as Promise<void>;
    return Promise.all(this.pending).then(() => undefined);
  }

  /** Exports in flight stop keeping the process alive (see `InvocationTracerConfig.releaseExports`). */
  releaseInFlight(): void {
    const exporter = this.exporter as (SpanExporter & Partial<ReleasableExporter>) | undefined;
    exporter?.releaseInFlight?.();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    await this.exporter?.shutdown();
  }

  /**
   * Exports one batch. An export that calls back before `export` returns leaves nothing behind;
   * otherwise it is in `pending` until it does, as a promise that settles then and never rejects.
   * Written without async/await: every promise step is a turn the invocation's response waits for.
   */
  private exportBatch(batch: ReadableSpan[]): void {
    let work: Promise<void> | undefined;
    let resolveWork: (() => void) | undefined;
    let settled = false;
    const done = (failure?: string): void => {
      if (settled) return;
      settled = true;
      if (work !== undefined) this.pending.delete(work);
      if (failure !== undefined) {
        this.config.health.report('failed', `could not export ${batch.length} spans: ${failure}`);
      }
      resolveWork?.();
    };
    try {
      this.exporter ??= this.config.createExporter();
      const exporter = this.exporter;
      const exported = (result: ExportResult): void =>
        done(
          result.code === ExportResultCode.SUCCESS ? undefined : (result.error?.message ?? 'unknown error'),
        );
      if ((exporter as Partial<UntracedExporter>).sendsUntraced === true) exporter.export(batch, exported);
      else runInContext(EXPORT_CONTEXT, () => exporter.export(batch, exported));
    } catch (error) {
      done(String(error));
    }
    if (!settled) {
      work = new Promise<void>((resolve) => {
        resolveWork = resolve;
      });
      this.pending.add(work);
    }
  }
}
