import { Inject, Injectable } from '@nestjs/common';
import { BalancingStrategy } from './strategies/balancing-strategy.js';
import type { Upstream } from './upstream.js';
import { UpstreamPool } from './upstream-pool.js';

/**
 * Picks the upstream for a request: filters to the available ones, then asks the strategy. When
 * breakers and health checks have taken every upstream out, it sends to them anyway (panic
 * routing, as Envoy's panic threshold and NGINX's "a single server is never marked unavailable"):
 * those signals can be wrong about part of the traffic (one failing endpoint opens a breaker for
 * every path), and a possible answer beats a certain 503. Concurrency caps are never overridden:
 * a pool emptied by them is shedding load, and answers 503.
 */
@Injectable()
export class BalancerService {
  private readonly panicListeners: (() => void)[] = [];

  constructor(
    private readonly pool: UpstreamPool,
    @Inject(BalancingStrategy) private readonly strategy: BalancingStrategy,
  ) {}

  /**
   * @param exclude upstreams this request has already tried (failover), skipped when others remain.
   * @returns undefined when no upstream is available and none has room for panic traffic, or when
   *   every available upstream is excluded.
   */
  pick(exclude?: ReadonlySet<Upstream>): Upstream | undefined {
    const candidates = this.candidates(exclude);
    if (candidates.length > 0) return this.strategy.select(candidates);
    if (this.pool.upstreams.some((upstream) => upstream.isAvailable())) return undefined;
    return this.panicPick(exclude);
  }

  /** Hears every request sent past breakers and health checks. */
  onPanicRouted(listener: () => void): void {
    this.panicListeners.push(listener);
  }

  /** Whether breakers and health checks have taken every upstream out, so requests are panic-routed. */
  get panicking(): boolean {
    const all = this.pool.upstreams;
    return all.length > 0 && all.every((upstream) => !upstream.healthy || !upstream.breaker.canTakeTraffic);
  }

  /**
   * The only place upstreams are filtered. Returns the pool itself when all qualify (the usual
   * case): no allocation on the hot path.
   */
  private candidates(exclude: ReadonlySet<Upstream> | undefined): readonly Upstream[] {
    const all = this.pool.upstreams;
    let qualifying = 0;
    for (const upstream of all) if (qualifies(upstream, exclude)) qualifying++;
    if (qualifying === all.length) return all;
    return all.filter((upstream) => qualifies(upstream, exclude));
  }

  private panicPick(exclude: ReadonlySet<Upstream> | undefined): Upstream | undefined {
    const withRoom = this.pool.upstreams.filter((upstream) => upstream.hasRoom && !exclude?.has(upstream));
    const chosen = this.strategy.select(withRoom);
    if (chosen) for (const listener of this.panicListeners) listener();
    return chosen;
  }
}

function qualifies(upstream: Upstream, exclude: ReadonlySet<Upstream> | undefined): boolean {
  return upstream.isAvailable() && !exclude?.has(upstream);
}
