/** What the exporter tests share: a diag logger that keeps every line, and a checked single export. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, afterEach, before } from 'node:test';
import { promisify } from 'node:util';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { LeanOtlpTraceExporter } from '../../../../src/export/otlp/lean-otlp-exporter.js';

/** A logger that appends `level message args…` to `lines`, to check what was (never) logged. */
export function capturingLogger(lines: string[]): DiagLogger {
  const capture =
    (level: string) =>
    (message: string, ...args: unknown[]): void => {
      lines.push(
        `${level} ${message} ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`,
      );
    };
  return {
    error: capture('error'),
    warn: capture('warn'),
    info: capture('info'),
    debug: capture('debug'),
    verbose: capture('verbose'),
  };
}

/** Exports and resolves with the result, failing the test if the callback is called twice. */
export async function exportOnce(
  exporter: LeanOtlpTraceExporter,
  spans: ReadableSpan[],
): Promise<ExportResult & { elapsedMs: number }> {
  const started = performance.now();
  let calls = 0;
  const result = await new Promise<ExportResult>((resolve) => {
    exporter.export(spans, (r) => {
      calls++;
      resolve(r);
    });
  });
  const elapsedMs = performance.now() - started;
  // Give a second callback (a bug) the chance to happen before counting.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls, 1, 'the result callback must be called exactly once');
  return { ...result, elapsedMs };
}

/**
 * Hooks for a suite: diag lines captured into `lines` from its start, `cleanups` run (last first)
 * after each test, and at the end a check that no line carried a header secret (`sk_live`).
 */
export function useExporterSuiteHooks(lines: string[], cleanups: (() => unknown)[]): void {
  before(() => {
    diag.setLogger(capturingLogger(lines), { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  after(() => {
    diag.disable();
    const leaks = lines.filter((line) => line.includes('sk_live'));
    assert.deepEqual(leaks, [], 'a header value was logged');
  });
}

const execFileAsync = promisify(execFile);

/**
 * Exports one span from a fresh Node process with `options` for the exporter, and returns what it
 * printed: `result <code>`, then ` shut down` when asked to shut the exporter down after. The child
 * must end by itself: exit code 13 (its top-level await never settled) or a hang past `timeoutMs`
 * rejects.
 */
export async function exportFromChild(
  options: Record<string, unknown>,
  { thenShutdown = false, withoutGetBuiltinModule = false, timeoutMs = 10_000 } = {},
): Promise<string> {
  const exporterUrl = new URL('../../../../src/export/otlp/lean-otlp-exporter.js', import.meta.url).href;
  const fixturesUrl = new URL('./span-fixtures.js', import.meta.url).href;
  const script = `
    // Node < 20.16 has no process.getBuiltinModule: the exporter then imports what it needs.
    if (${withoutGetBuiltinModule}) process.getBuiltinModule = undefined;
    const { LeanOtlpTraceExporter } = await import(${JSON.stringify(exporterUrl)});
    const { makeSpans } = await import(${JSON.stringify(fixturesUrl)});
    const exporter = new LeanOtlpTraceExporter(${JSON.stringify(options)});
    const result = await new Promise((resolve) => exporter.export(makeSpans(['from child']), resolve));
    process.stdout.write('result ' + result.code);
    if (${thenShutdown}) {
      await exporter.shutdown();
      process.stdout.write(' shut down');
    }
  `;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
    timeout: timeoutMs,
  });
  return stdout;
}
