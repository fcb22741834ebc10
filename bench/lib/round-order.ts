import { seededRandom } from '../../test/helpers/seeded-random.js';

/**
 * The order the setups take their turn in, round by round. A rotation would keep each setup right
 * behind the same one in every round (only the first changes), so whatever one setup leaves behind
 * (a busy span receiver, evicted caches, a process to reap) would always fall on the same next one.
 * Each round is instead its own shuffle, seeded by the round's number: the same every run, so a
 * result can be reproduced, and each setup follows many different ones over the rounds.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const order = [...items];
  const random = seededRandom(round + 1);
  // Fisher-Yates.
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  return order;
}
