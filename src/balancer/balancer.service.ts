import { Inject, Injectable } from '@nestjs/common';
import { BalancingStrategy } from './strategies/balancing-strategy.js';
import type { Upstream } from './upstream.js';
import { UpstreamPool } from './upstream-pool.js';

/** Picks the upstream for a request: filters to the available ones, then asks the strategy. */
@Injectable()
export class BalancerService {
  constructor(
    private readonly pool: UpstreamPool,
    @Inject(BalancingStrategy) private readonly strategy: BalancingStrategy,
  ) {}

  /**
   * @param exclude upstreams this request has already tried (failover), skipped when others remain.
   * @returns undefined when no upstream can take traffic.
   */
  pick(exclude?: ReadonlySet<Upstream>): Upstream | undefined {
    return this.strategy.select(this.candidates(exclude));
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
}

function qualifies(upstream: Upstream, exclude: ReadonlySet<Upstream> | undefined): boolean {
  return upstream.isAvailable() && !exclude?.has(upstream);
}
