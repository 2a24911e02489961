import type { Upstream } from '../upstream.js';
import type { BalancingStrategy } from './balancing-strategy.js';

/** Each candidate in turn. With a changing candidate list it stays fair: it never favours one. */
export class RoundRobinStrategy implements BalancingStrategy {
  private counter = 0;

  select(candidates: readonly Upstream[]): Upstream | undefined {
    if (candidates.length === 0) return undefined;
    const chosen = candidates[this.counter % candidates.length];
    // Wrap well before 2^53 so the counter stays a small integer.
    this.counter = (this.counter + 1) % 1_000_000_007;
    return chosen;
  }
}
