/**
 * The order the setups take their turn in, round by round. A rotation would keep each setup right
 * behind the same one in every round (only the first changes), so whatever one setup leaves behind
 * (a busy span receiver, evicted caches, a process to reap) would always fall on the same next one.
 * Each round is instead its own shuffle, seeded by the round's number: the same every run, so a
 * result can be reproduced, and each setup follows many different ones over the rounds.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const order = [...items];
  const random = seeded(round + 1);
  // Fisher-Yates.
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  return order;
}

/** mulberry32: a small, well-mixed 32-bit generator; numbers in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
