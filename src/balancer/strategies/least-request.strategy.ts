import type { Upstream } from '../upstream.js';
import type { BalancingStrategy } from './balancing-strategy.js';
import { currentWeight, hasUniformWeights } from './weights.js';

/**
 * Power of two random choices on requests in flight (Envoy's LEAST_REQUEST, choice_count 2): two
 * distinct candidates at random, the one with fewer in flight wins. With two backends the less
 * loaded always wins; a slow backend, holding its requests longer, is chosen less. When weights
 * differ (or one is in slow start) the two are drawn in proportion to weight and compared on
 * in-flight per unit of weight (NGINX's least_conn), so an idle pool still splits by weight.
 */
export class LeastRequestStrategy implements BalancingStrategy {
  /** @param random a number in [0, 1): Math.random, or a seeded one in specs. */
  constructor(private readonly random: () => number = Math.random) {}

  select(candidates: readonly Upstream[]): Upstream | undefined {
    const count = candidates.length;
    if (count <= 1) return candidates[0];
    if (!hasUniformWeights(candidates)) return this.selectWeighted(candidates);
    const first = Math.floor(this.random() * count);
    let second = Math.floor(this.random() * (count - 1));
    if (second >= first) second++;
    const a = candidates[first];
    const b = candidates[second];
    return b.inFlight < a.inFlight ? b : a;
  }

  private selectWeighted(candidates: readonly Upstream[]): Upstream {
    const now = performance.now();
    let total = 0;
    for (const upstream of candidates) total += currentWeight(upstream, now);
    const a = this.drawn(candidates, total, undefined, now);
    const b = this.drawn(candidates, total - currentWeight(a, now), a, now);
    return b.inFlight / currentWeight(b, now) < a.inFlight / currentWeight(a, now) ? b : a;
  }

  /** One candidate other than `skipped`, drawn in proportion to weight (`total`: the weights of all but `skipped`). */
  private drawn(candidates: readonly Upstream[], total: number, skipped: Upstream | undefined, now: number): Upstream {
    let left = this.random() * total;
    let last = candidates[0];
    for (const upstream of candidates) {
      if (upstream === skipped) continue;
      last = upstream;
      left -= currentWeight(upstream, now);
      if (left < 0) return upstream;
    }
    return last; // rounding left a sliver over the end
  }
}
