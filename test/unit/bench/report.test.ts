/**
 * The benchmark's report from hand-made summaries: the like-for-like table pairs each of this layer's
 * setups with the ADOT setup that exports the same way, and divides the added costs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Summary, sameExportTable } from '../../../bench/lib/report.js';
import type { Setup } from '../../../bench/lib/setups.js';

function summary(
  id: string,
  label: string,
  cold: number,
  warm: number,
  rss: number,
  sameExportAs?: string,
): Summary {
  const spread = (median: number) => ({ median, min: median, max: median });
  const setup = { id, label, sameExportAs } as Setup;
  return {
    setup,
    rounds: 3,
    failures: [],
    cold: spread(cold),
    init: spread(cold),
    warmP50: spread(warm),
    warmP99: warm,
    rss: spread(rss),
    spansPerInvocation: 1,
    beforeFreeze: 1,
    joined: 1,
  };
}

describe('sameExportTable', () => {
  it('divides what each of our setups adds by what its ADOT counterpart adds', () => {
    const table = sameExportTable([
      summary('baseline', 'no tracing', 100, 1.0, 50),
      summary('ours-udp', 'ours (UDP)', 110, 1.5, 56, 'adot'),
      summary('ours', 'ours (HTTP)', 120, 1.8, 55, 'adot-otlp'),
      summary('adot', 'ADOT (UDP)', 500, 2.0, 150),
      summary('adot-otlp', 'ADOT (HTTP)', 520, 5.0, 152),
    ]);
    const rows = table.split('\n').filter((line) => line.startsWith('| ours'));
    assert.deepEqual(rows, [
      '| ours (UDP) | ADOT (UDP) | +10.0 ms / +400.0 ms = 0.03× | +0.50 ms / +1.00 ms = 0.50× | +6.0 MiB / +100.0 MiB = 0.06× |',
      '| ours (HTTP) | ADOT (HTTP) | +20.0 ms / +420.0 ms = 0.05× | +0.80 ms / +4.00 ms = 0.20× | +5.0 MiB / +102.0 MiB = 0.05× |',
    ]);
  });

  it('is empty when no counterpart ran', () => {
    const table = sameExportTable([
      summary('baseline', 'no tracing', 100, 1.0, 50),
      summary('ours-udp', 'ours (UDP)', 110, 1.5, 56, 'adot'),
      { ...summary('adot', 'ADOT (UDP)', 500, 2.0, 150), rounds: 0 },
    ]);
    assert.equal(table, '');
  });
});
