/** Order statistics for benchmark samples. */

/** The value below which `p` (0–1) of the samples fall, by linear interpolation; NaN when empty. */
export function quantile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  const lowValue = sorted[low] ?? Number.NaN;
  const highValue = sorted[high] ?? Number.NaN;
  return lowValue + (highValue - lowValue) * (at - low);
}

/** The median; NaN when empty. */
export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** Median with the smallest and largest sample: how a figure varied over rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The spread of a set of per-round figures. */
export function spread(samples: readonly number[]): Spread {
  const finite = samples.filter(Number.isFinite);
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
  };
}
