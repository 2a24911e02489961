import type { Upstream } from '../upstream.js';

/**
 * Chooses one of the upstreams that can take traffic. Strategies are tiny, synchronous and free
 * of I/O; they keep their own state and return undefined when nothing can be picked.
 */
export interface BalancingStrategy {
  /**
   * @param candidates the service's backends that can take this request (never empty when a
   *   choice is possible); the same array as the service's own list when all of them can.
   * @param key what the request is hashed on (consistent-hash), undefined when it carries none.
   */
  select(candidates: readonly Upstream[], key: string | undefined): Upstream | undefined;
  /** The service's backends changed (joined, left, reweighted): for a strategy that precomputes from them. */
  membersChanged?(members: readonly Upstream[]): void;
}
