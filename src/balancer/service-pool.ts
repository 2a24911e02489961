import type { ServiceSettings } from '../config/routing-config.js';
import type { BalancingStrategy } from './strategies/balancing-strategy.js';
import type { Upstream } from './upstream.js';

/**
 * One service's backends and how they are used: the balancing strategy (its own instance, so each
 * service keeps its own turn) and the per-backend settings (breaker, checks, retries, timeouts).
 * `upstreams` is replaced whole when the configuration changes, never edited in place, so a pick in
 * progress always sees one consistent list.
 */
export class ServicePool {
  /** The backends taking new requests, in the configured order. */
  upstreams: readonly Upstream[];

  constructor(
    readonly name: string,
    public settings: ServiceSettings,
    readonly strategy: BalancingStrategy,
    upstreams: readonly Upstream[] = [],
  ) {
    this.upstreams = upstreams;
  }
}
