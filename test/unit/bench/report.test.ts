/**
 * The benchmark's report from hand-made summaries: the like-for-like table pairs each of this layer's
 * setups with the ADOT setup that exports the same way, and divides the added costs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuMs } from '../../../bench/lib/measure.js';
import { cpuTable, type Summary, sameExportTable } from '../../../bench/lib/report.js';
import type { Setup } from '../../../bench/lib/setups.js';

function summary(
  id: string,
  label: string,
  cold: number,
  warm: number,
  rss: number,
  sameExportAs?: string,
  cpu = warm / 2,
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
    warmCpu: spread(cpu),
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
      '| ours (UDP) | ADOT (UDP) | +10.0 ms / +400.0 ms = 0.03× | +0.50 ms / +1.00 ms = 0.50× | +0.25 ms / +0.50 ms = 0.50× | +6.0 MiB / +100.0 MiB = 0.06× |',
      '| ours (HTTP) | ADOT (HTTP) | +20.0 ms / +420.0 ms = 0.05× | +0.80 ms / +4.00 ms = 0.20× | +0.40 ms / +2.00 ms = 0.20× | +5.0 MiB / +102.0 MiB = 0.05× |',
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

describe('cpuTable', () => {
  it('gives every setup its CPU time per warm invocation, added over no tracing and against ADOT', () => {
    const table = cpuTable([
      summary('baseline', 'no tracing', 100, 1.0, 50, undefined, 1.2),
      summary('ours-udp', 'ours (UDP)', 110, 1.5, 56, 'adot', 1.8),
      summary('adot', 'ADOT (UDP)', 500, 2.0, 150, undefined, 2.4),
    ]);
    assert.deepEqual(table.split('\n').slice(-3), [
      '| no tracing | 1.20 [1.20–1.20] |  |  |',
      '| ours (UDP) | 1.80 [1.80–1.80] | +0.60 | 0.50× |',
      '| ADOT (UDP) | 2.40 [2.40–2.40] | +1.20 | 1.00× |',
    ]);
  });

  it('is empty when the CPU time could not be read', () => {
    const table = cpuTable([
      summary('baseline', 'no tracing', 100, 1.0, 50, undefined, Number.NaN),
      summary('adot', 'ADOT (UDP)', 500, 2.0, 150, undefined, Number.NaN),
    ]);
    assert.equal(table, '');
  });
});

describe('cpuMs', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  it('agrees with the CPU time the process reports for itself', () => {
    // Spins until the process has used 60 ms of CPU, however busy the machine: wall time is not the point.
    const usage = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
    const [fromProc, fromUsage] = [cpuMs(process.pid), usage()];
    while (usage() - fromUsage < 60) {
      // Busy.
    }
    const counted = cpuMs(process.pid) - fromProc;
    const reported = usage() - fromUsage;
    assert.ok(Math.abs(counted - reported) < 15, `schedstat ${counted} ms, getrusage ${reported} ms`);
  });

  it('is NaN for a process that does not exist', () => {
    assert.ok(Number.isNaN(cpuMs(2 ** 22 + 1)));
  });
});
