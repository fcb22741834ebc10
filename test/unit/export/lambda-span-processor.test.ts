import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, DiagLogLevel, diag } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type ExportResult, ExportResultCode, isTracingSuppressed } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportHealth } from '../../../src/export/export-health.js';
import { LambdaSpanProcessor } from '../../../src/export/lambda-span-processor.js';
import { makeSpans } from './otlp/span-fixtures.js';

type Export = (spans: ReadableSpan[], done: (result: ExportResult) => void) => void;

/** A processor over an exporter that does what `exportFn` says, with what it reported. */
function processorWith(exportFn: Export, maxQueuedSpans = 2048, exporterFields: object = {}) {
  const reports: string[] = [];
  const health = new ExportHealth();
  health.report = (kind, message) => {
    reports.push(`${kind}: ${message}`);
  };
  const exported: ReadableSpan[][] = [];
  let created = 0;
  const exporter: SpanExporter = {
    ...exporterFields,
    export: (spans, done) => {
      exported.push(spans);
      exportFn(spans, done);
    },
    shutdown: async () => {},
  };
  const processor = new LambdaSpanProcessor({
    createExporter: () => {
      created++;
      return exporter;
    },
    maxQueuedSpans,
    health,
  });
  const end = (names: string[]) => {
    for (const span of makeSpans(names)) processor.onEnd(span);
  };
  return { processor, end, reports, exported, created: () => created };
}

const success: Export = (_spans, done) => done({ code: ExportResultCode.SUCCESS });

describe('LambdaSpanProcessor', () => {
  it("exports with tracing suppressed (the exporter's own calls are not traced), unless the exporter sends untraced", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const suppressed: boolean[] = [];
      const record: Export = (_spans, done) => {
        suppressed.push(isTracingSuppressed(context.active()));
        done({ code: ExportResultCode.SUCCESS });
      };
      for (const fields of [{}, { sendsUntraced: true }]) {
        const kit = processorWith(record, 2048, fields);
        kit.end(['a']);
        await kit.processor.forceFlush();
      }
      assert.deepEqual(suppressed, [true, false]);
    } finally {
      context.disable();
    }
  });

  it('creates no exporter and resolves at once when nothing was queued', async () => {
    const kit = processorWith(success);
    await kit.processor.forceFlush();
    assert.equal(kit.created(), 0);
    assert.deepEqual(kit.exported, []);
  });

  it('exports everything queued in one request, then starts a new batch', async () => {
    const kit = processorWith(success);
    kit.end(['a', 'b']);
    await kit.processor.forceFlush();
    kit.end(['c']);
    await kit.processor.forceFlush();
    assert.deepEqual(
      kit.exported.map((batch) => batch.map((s) => s.name)),
      [['a', 'b'], ['c']],
    );
    assert.equal(kit.created(), 1, 'one exporter for the life of the process');
    assert.deepEqual(kit.reports, []);
  });

  it('waits for an exporter that answers later, and for every export still in flight', async () => {
    const answers: (() => void)[] = [];
    const kit = processorWith((_spans, done) => answers.push(() => done({ code: ExportResultCode.SUCCESS })));
    kit.end(['first']);
    const first = kit.processor.forceFlush();
    kit.end(['second']);
    let bothDone = false;
    const second = kit.processor.forceFlush().then(() => {
      bothDone = true;
    });
    answers[1]?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bothDone, false, 'the second flush must also wait for the first export');
    answers[0]?.();
    await Promise.all([first, second]);
    assert.equal(bothDone, true);
  });

  it('flushNow: nothing left to wait for when the exporter called back at once, else a promise', async () => {
    const kit = processorWith(success);
    assert.equal(kit.processor.flushNow(), undefined, 'nothing queued');
    kit.end(['a']);
    assert.equal(kit.processor.flushNow(), undefined, 'exported and called back before returning');
    assert.equal(kit.exported.length, 1);

    const answers: (() => void)[] = [];
    const later = processorWith((_spans, done) =>
      answers.push(() => done({ code: ExportResultCode.SUCCESS })),
    );
    later.end(['b']);
    const pending = later.processor.flushNow();
    assert.ok(pending instanceof Promise, 'an export still running must be waited for');
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    answers[0]?.();
    await pending;
    assert.equal(later.processor.flushNow(), undefined, 'nothing left once it called back');
  });

  it('reports a failed export and a throwing exporter, and never rejects', async () => {
    const failing = processorWith((_spans, done) =>
      done({ code: ExportResultCode.FAILED, error: new Error('collector said no') }),
    );
    failing.end(['x']);
    await failing.processor.forceFlush();
    assert.deepEqual(failing.reports, ['failed: could not export 1 spans: collector said no']);

    const throwing = processorWith(() => {
      throw new Error('boom');
    });
    throwing.end(['y', 'z']);
    await throwing.processor.forceFlush();
    assert.deepEqual(throwing.reports, ['failed: could not export 2 spans: Error: boom']);
    // Nothing is left pending: the next flush with nothing queued resolves at once.
    await throwing.processor.forceFlush();
  });

  it('keeps at most maxQueuedSpans and skips unsampled spans', async () => {
    const kit = processorWith(success, 2);
    // The unsampled span comes first, while there is room: only the sampled flag can keep it out.
    const [unsampled] = makeSpans(['unsampled']);
    const context = unsampled.spanContext();
    kit.processor.onEnd({ ...unsampled, spanContext: () => ({ ...context, traceFlags: 0 }) } as ReadableSpan);
    kit.end(['1', '2', '3']);
    const lines: string[] = [];
    diag.setLogger(
      {
        error: () => {},
        warn: () => {},
        info: () => {},
        debug: (message: string) => lines.push(message),
        verbose: () => {},
      },
      DiagLogLevel.DEBUG,
    );
    try {
      await kit.processor.forceFlush();
      await kit.processor.forceFlush(); // said once, at the flush after the drop
    } finally {
      diag.disable();
    }
    assert.deepEqual(
      kit.exported.map((batch) => batch.map((s) => s.name)),
      [['1', '2']],
    );
    assert.deepEqual(
      lines.filter((line) => line.startsWith('dropped')),
      ['dropped 1 spans: more than 2 were queued'],
    );
  });

  it('passes releaseInFlight on to an exporter that has it, and tolerates one that has not', async () => {
    const kit = processorWith(success);
    kit.processor.releaseInFlight(); // no exporter yet
    kit.end(['a']);
    await kit.processor.forceFlush();
    kit.processor.releaseInFlight(); // a plain SpanExporter: nothing to call
    let released = 0;
    const releasable = new LambdaSpanProcessor({
      createExporter: () =>
        Object.assign(
          { export: success, shutdown: async () => {} },
          {
            releaseInFlight: () => {
              released++;
            },
          },
        ),
      maxQueuedSpans: 10,
      health: new ExportHealth(),
    });
    for (const span of makeSpans(['b'])) releasable.onEnd(span);
    await releasable.forceFlush();
    releasable.releaseInFlight();
    assert.equal(released, 1);
  });
});
