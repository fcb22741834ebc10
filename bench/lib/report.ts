/** Turns the runs into the summary table (Markdown) and the chart (hand-written SVG). */
import type { HandlerKind, RunSample } from './measure.js';
import type { Footprint } from './peers.js';
import type { Setup } from './setups.js';
import { median, quantile, type Spread, spread } from './stats.js';

/** One setup's figures for one handler, over all rounds. */
export interface Summary {
  setup: Setup;
  rounds: number;
  failures: string[];
  cold: Spread;
  init: Spread;
  /** Per-round medians of the warm invocations. */
  warmP50: Spread;
  /** p99 of all warm invocations pooled. */
  warmP99: number;
  /** Per-round medians of the runtime process's CPU time per warm invocation (NaN: not measured). */
  warmCpu: Spread;
  rss: Spread;
  spansPerInvocation: number;
  /** Share of spans that arrived before the freeze (NaN without spans). */
  beforeFreeze: number;
  /** Share of invocations with spans whose spans are all in Lambda's trace (NaN without spans). */
  joined: number;
}

/** Summarises the runs of one setup. */
export function summarise(setup: Setup, runs: readonly RunSample[]): Summary {
  const ok = runs.filter((r) => !r.error);
  const sum = (pick: (r: RunSample) => number) => ok.reduce((total, r) => total + pick(r), 0);
  return {
    setup,
    rounds: ok.length,
    failures: runs.flatMap((r) => (r.error ? [r.error] : [])),
    cold: spread(ok.map((r) => r.coldMs)),
    init: spread(ok.map((r) => r.initMs)),
    warmP50: spread(ok.map((r) => median(r.warmMs))),
    warmP99: quantile(
      ok.flatMap((r) => r.warmMs),
      0.99,
    ),
    warmCpu: spread(ok.map((r) => median(r.warmCpuMs))),
    rss: spread(ok.map((r) => r.rssMiB)),
    spansPerInvocation: sum((r) => r.spans) / sum((r) => r.invocations),
    beforeFreeze: sum((r) => r.beforeFreeze) / sum((r) => r.spans),
    joined: sum((r) => r.joined) / sum((r) => r.withSpans),
  };
}

/** What the report says about the machine and the run. */
export interface RunInfo {
  date: string;
  nproc: number;
  cpu: string;
  loadAverage: string;
  hostNode: string;
  runtime: string;
  runtimeNode: string;
  ric: string;
  memoryMb: number;
  rounds: number;
  warm: number;
  notes: string[];
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const withSpread = (s: Spread, digits = 1): string =>
  Number.isFinite(s.median)
    ? `${fixed(s.median, digits)} [${fixed(s.min, digits)}–${fixed(s.max, digits)}]`
    : '–';
const signed = (value: number, digits = 1): string =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(digits)}` : '–';
const percent = (share: number): string => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a');
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

/** `mine` as a multiple of `theirs` (two added costs); '–' when ADOT added nothing measurable. */
const ratioText = (mine: number, theirs: number | undefined): string =>
  theirs !== undefined && theirs > 0 && Number.isFinite(mine / theirs)
    ? `${(mine / theirs).toFixed(2)}×`
    : '–';

/** Added cost over the baseline, and its ratio to ADOT's added cost. */
function costCells(
  value: number,
  base: number,
  adot: number | undefined,
  isBaseline: boolean,
  digits = 1,
): string[] {
  if (isBaseline) return ['', ''];
  const added = value - base;
  return [signed(added, digits), ratioText(added, adot === undefined ? undefined : adot - base)];
}

/** The Markdown table of one handler. */
export function handlerTable(title: string, summaries: readonly Summary[]): string {
  const base = summaries.find((s) => s.setup.id === 'baseline');
  const adot = summaries.find((s) => s.setup.id === 'adot' && s.rounds > 0);
  const lines = [
    `### ${title}`,
    '',
    '| setup | cold start ms | added | × ADOT | init ms | warm p50 ms | added | × ADOT | warm p99 ms | RSS MiB | added | × ADOT | spans / invocation | before freeze | in Lambda trace |',
    '| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of summaries) {
    if (s.rounds === 0) {
      lines.push(
        `| ${s.setup.label} | failed: ${(s.failures[0] ?? 'no runs').split('\n')[0]} |${' |'.repeat(13)}`,
      );
      continue;
    }
    const isBase = s === base;
    const b = base ?? s;
    lines.push(
      [
        '',
        s.setup.label,
        withSpread(s.cold),
        ...costCells(s.cold.median, b.cold.median, adot?.cold.median, isBase),
        withSpread(s.init),
        withSpread(s.warmP50, 2),
        ...costCells(s.warmP50.median, b.warmP50.median, adot?.warmP50.median, isBase, 2),
        fixed(s.warmP99, 2),
        withSpread(s.rss),
        ...costCells(s.rss.median, b.rss.median, adot?.rss.median, isBase),
        fixed(s.spansPerInvocation, 1),
        s.spansPerInvocation > 0 ? percent(s.beforeFreeze) : isBase ? 'n/a' : 'no spans',
        s.spansPerInvocation > 0 ? percent(s.joined) : isBase ? 'n/a' : 'no spans',
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  return lines.join('\n');
}

/**
 * This layer against ADOT exporting the same way (daemon UDP against ADOT as shipped, OTLP/HTTP to the
 * collector against ADOT with its OTLP endpoint set): added cold start, warm p50 and memory of both,
 * and their ratio. Empty when no pair ran.
 */
export function sameExportTable(summaries: readonly Summary[]): string {
  const base = summaries.find((s) => s.setup.id === 'baseline' && s.rounds > 0);
  if (!base) return '';
  const rows: string[] = [];
  for (const ours of summaries) {
    const peer = summaries.find((s) => s.setup.id === ours.setup.sameExportAs);
    if (!peer || ours.rounds === 0 || peer.rounds === 0) continue;
    const cell = (pick: (s: Summary) => number, digits: number, unit: string) => {
      const mine = pick(ours) - pick(base);
      const theirs = pick(peer) - pick(base);
      return `${signed(mine, digits)} ${unit} / ${signed(theirs, digits)} ${unit} = ${ratioText(mine, theirs)}`;
    };
    rows.push(
      `| ${ours.setup.label} | ${peer.setup.label} | ${cell((s) => s.cold.median, 1, 'ms')} | ${cell((s) => s.warmP50.median, 2, 'ms')} | ${cell((s) => s.warmCpu.median, 2, 'ms')} | ${cell((s) => s.rss.median, 1, 'MiB')} |`,
    );
  }
  if (rows.length === 0) return '';
  return [
    'Same export path, this layer / ADOT (added over no tracing):',
    '',
    '| this layer | ADOT | cold start | warm p50 | warm CPU p50 | RSS |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * CPU time of the runtime process per warm invocation, for every setup: the work each layer does
 * for an invocation, apart from waits and the machine's scheduling noise. Empty when not measured.
 */
export function cpuTable(summaries: readonly Summary[]): string {
  const base = summaries.find((s) => s.setup.id === 'baseline' && s.rounds > 0);
  const adot = summaries.find((s) => s.setup.id === 'adot' && s.rounds > 0);
  if (!base || !Number.isFinite(base.warmCpu.median)) return '';
  const rows = summaries
    .filter((s) => s.rounds > 0)
    .map((s) =>
      [
        '',
        s.setup.label,
        withSpread(s.warmCpu, 2),
        ...costCells(s.warmCpu.median, base.warmCpu.median, adot?.warmCpu.median, s === base, 2),
        '',
      ]
        .join(' | ')
        .trim(),
    );
  return [
    'CPU time of the runtime process (all threads, user and kernel) per warm invocation:',
    '',
    '| setup | warm CPU p50 ms | added | × ADOT |',
    '| --- | --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}

/** The size table: what each setup adds to a deployment. */
export function sizeTable(rows: readonly { setup: Setup; footprint: Footprint }[]): string {
  const adot = rows.find((r) => r.setup.id === 'adot')?.footprint;
  const lines = [
    '| setup | zip | unpacked | zip × ADOT | unpacked × ADOT | measured |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const { setup, footprint } of rows) {
    const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(3)}×` : '–');
    lines.push(
      `| ${setup.label} | ${mib(footprint.zipBytes)} | ${mib(footprint.unpackedBytes)} | ${ratio(footprint.zipBytes, adot?.zipBytes)} | ${ratio(footprint.unpackedBytes, adot?.unpackedBytes)} | ${footprint.what} |`,
    );
  }
  return lines.join('\n');
}

/** The whole results.md. */
export function resultsMarkdown(
  info: RunInfo,
  tables: readonly string[],
  sizes: string,
  setups: readonly Setup[],
  footnotes: readonly string[],
): string {
  return [
    '# Side-by-side benchmark',
    '',
    `Generated by \`npm run bench\` on ${info.date}. Machine: ${info.nproc} CPU(s), ${info.cpu}; load average at start ${info.loadAverage}; host Node ${info.hostNode}.`,
    `Runtime: ${info.runtime} (Node ${info.runtimeNode}, aws-lambda-ric ${info.ric}), ${info.memoryMb} MB, ` +
      `${info.rounds} round(s) per handler, each: every setup's cold start in turn, then ${info.warm} warm invocations per setup, ` +
      "taken in turns across the setups (one function thawed at a time), so that the machine's noise falls on all alike; " +
      'the setups go in a new order each round (a shuffle seeded by the round), so none always follows the same one.',
    '',
    'Figures are medians over rounds with [min–max]; "added" is the difference from the no-tracing baseline of the same run; ' +
      '"× ADOT" divides that added cost by the one of the ADOT layer as shipped, from the same run (below 1 means cheaper than ADOT). ' +
      'Cold start runs from process spawn to the end of the first invocation (the process frozen again), so it includes any export ' +
      'made before the freeze; warm figures are measured the same way around each invocation with `performance.now()`, and ' +
      'warm CPU is the CPU time the runtime process used in that span (from `/proc/PID/task/*/schedstat`). ' +
      'RSS is VmRSS of the frozen process after the last invocation. "before freeze" is the share of spans that had arrived when ' +
      'the process was frozen after their invocation; "in Lambda trace" is the share of invocations whose spans all carry the Root of Lambda\'s trace header. ' +
      'The receivers (OTLP/HTTP, OTLP/gRPC, a UDP socket for the X-Ray daemon) run in a process of their own, as the collector ' +
      'extension and the daemon do on Lambda: receiving spans does not delay the Runtime API that times the invocation.',
    '',
    `Reproduce with \`npm run bench\` (\`-- --rounds ${info.rounds} --warm ${info.warm} --runtime ${info.runtime} --memory ${info.memoryMb}\`); ` +
      'the chart is `results.svg`.',
    '',
    ...info.notes.map((note) => `- ${note}`),
    '',
    ...tables.flatMap((table) => [table, '']),
    '### Size',
    '',
    sizes,
    '',
    '### Setups',
    '',
    ...setups.map((s) => `- **${s.label}**: spans go as ${s.exportPath}.`),
    '',
    ...footnotes,
    '',
  ].join('\n');
}

/** Bars of added cold start, warm p50 and memory per setup, one bar per handler. */
export function chartSvg(byHandler: ReadonlyMap<HandlerKind, readonly Summary[]>, caption: string): string {
  const handlers = [...byHandler.keys()];
  const first = byHandler.get(handlers[0] ?? 'noop') ?? [];
  const setups = first.filter((s) => s.setup.id !== 'baseline').map((s) => s.setup);
  const metrics: { title: string; unit: string; pick: (s: Summary) => number }[] = [
    { title: 'Added cold start', unit: 'ms', pick: (s) => s.cold.median },
    { title: 'Added warm p50', unit: 'ms', pick: (s) => s.warmP50.median },
    { title: 'Added memory (RSS)', unit: 'MiB', pick: (s) => s.rss.median },
  ];
  const colors = ['#1f6feb', '#8fb8f5'];
  const labelWidth = 330;
  const panelWidth = 230;
  const gap = 20;
  const barHeight = 12;
  const rowHeight = barHeight * handlers.length + 10;
  const top = 60;
  const height = top + setups.length * rowHeight + 40;
  const width = labelWidth + metrics.length * (panelWidth + gap);
  const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${xmlText(caption)}</text>`,
  ];
  setups.forEach((setup, row) => {
    const y = top + row * rowHeight + (barHeight * handlers.length) / 2 + 4;
    parts.push(`<text x="${labelWidth - 10}" y="${y}" text-anchor="end">${xmlText(setup.label)}</text>`);
  });
  metrics.forEach((metric, column) => {
    const x0 = labelWidth + column * (panelWidth + gap);
    const added = (handler: HandlerKind, setupId: string): number => {
      const list = byHandler.get(handler) ?? [];
      const base = list.find((s) => s.setup.id === 'baseline');
      const s = list.find((item) => item.setup.id === setupId);
      return s && base && s.rounds > 0 ? metric.pick(s) - metric.pick(base) : Number.NaN;
    };
    const values = setups.flatMap((s) => handlers.map((h) => added(h, s.id))).filter(Number.isFinite);
    const max = Math.max(1e-9, ...values);
    const min = Math.min(0, ...values);
    const scale = (panelWidth - 50) / (max - min);
    const zero = x0 + -min * scale;
    parts.push(
      `<text x="${x0}" y="${top - 14}" font-weight="bold">${xmlText(`${metric.title} (${metric.unit})`)}</text>`,
    );
    parts.push(
      `<line x1="${zero}" y1="${top - 4}" x2="${zero}" y2="${top + setups.length * rowHeight}" stroke="#888"/>`,
    );
    setups.forEach((setup, row) => {
      handlers.forEach((handler, h) => {
        const value = added(handler, setup.id);
        const y = top + row * rowHeight + h * barHeight;
        if (!Number.isFinite(value)) {
          parts.push(`<text x="${zero + 4}" y="${y + barHeight - 2}" fill="#888">n/a</text>`);
          return;
        }
        const start = Math.min(zero, zero + value * scale);
        const w = Math.max(1, Math.abs(value * scale));
        parts.push(
          `<rect x="${start.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${colors[h % colors.length]}"/>`,
        );
        parts.push(
          `<text x="${(Math.max(zero, zero + value * scale) + 4).toFixed(1)}" y="${y + barHeight - 3}" font-size="10">${fixed(value, metric.unit === 'ms' && Math.abs(value) < 10 ? 2 : 0)}</text>`,
        );
      });
    });
  });
  const legendY = height - 20;
  handlers.forEach((handler, h) => {
    const x = labelWidth + h * 200;
    parts.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${colors[h % colors.length]}"/>`,
    );
    parts.push(
      `<text x="${x + 18}" y="${legendY}">${handler === 'noop' ? 'no-op handler' : 'realistic handler'}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
