import type { Upstream } from '../upstream.js';

/**
 * Chooses one of the upstreams that can take traffic. Strategies are tiny, synchronous and free
 * of I/O; they keep their own state and return undefined when nothing can be picked.
 */
export interface BalancingStrategy {
  select(candidates: readonly Upstream[]): Upstream | undefined;
}
