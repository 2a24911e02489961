import type { Upstream } from '../upstream.js';
import type { BalancingStrategy } from './balancing-strategy.js';
import { currentWeight, hasUniformWeights } from './weights.js';

/**
 * Each candidate in turn. With a changing candidate list it stays fair: it never favours one. When
 * the candidates' weights differ (or one is in slow start), NGINX's smooth weighted round robin:
 * each gets its share, spread out (weights 5, 1, 1 give a a b a c a a, never five a's in a row).
 */
export class RoundRobinStrategy implements BalancingStrategy {
  private counter = 0;
  /** Smooth weighted round robin's running score of each upstream. */
  private readonly scores = new WeakMap<Upstream, number>();

  select(candidates: readonly Upstream[]): Upstream | undefined {
    if (candidates.length === 0) return undefined;
    if (!hasUniformWeights(candidates)) return this.selectWeighted(candidates);
    const chosen = candidates[this.counter % candidates.length];
    // Wrap well before 2^53 so the counter stays a small integer.
    this.counter = (this.counter + 1) % 1_000_000_007;
    return chosen;
  }

  /** Every candidate's score grows by its weight; the highest is chosen and pays back the total. */
  private selectWeighted(candidates: readonly Upstream[]): Upstream {
    const now = performance.now();
    let total = 0;
    let best = candidates[0];
    let bestScore = -Infinity;
    for (const upstream of candidates) {
      const weight = currentWeight(upstream, now);
      const score = (this.scores.get(upstream) ?? 0) + weight;
      this.scores.set(upstream, score);
      total += weight;
      if (score > bestScore) {
        best = upstream;
        bestScore = score;
      }
    }
    this.scores.set(best, bestScore - total);
    return best;
  }
}
