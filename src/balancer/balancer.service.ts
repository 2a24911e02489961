import { Injectable } from '@nestjs/common';
import type { ServicePool } from './service-pool.js';
import type { Upstream } from './upstream.js';
import { UpstreamPool } from './upstream-pool.js';

/**
 * Picks the upstream of a service for a request: filters to the available ones, then asks the
 * service's strategy. When breakers and health checks have taken every upstream of the service out,
 * it sends to them anyway (panic routing, as Envoy's panic threshold and NGINX's "a single server
 * is never marked unavailable"): those signals can be wrong about part of the traffic (one failing
 * endpoint opens a breaker for every path), and a possible answer beats a certain 503. Concurrency
 * caps are never overridden: a pool emptied by them is shedding load, and answers 503.
 */
@Injectable()
export class BalancerService {
  private readonly panicListeners: (() => void)[] = [];

  constructor(private readonly pool: UpstreamPool) {}

  /**
   * @param exclude upstreams this request has already tried (failover), skipped when others remain.
   * @returns undefined when no upstream is available and none has room for panic traffic, or when
   *   every available upstream is excluded.
   */
  pick(service: ServicePool, exclude?: ReadonlySet<Upstream>): Upstream | undefined {
    const all = service.upstreams;
    const candidates = this.candidates(all, exclude);
    if (candidates.length > 0) return service.strategy.select(candidates);
    if (all.some((upstream) => upstream.isAvailable())) return undefined;
    return this.panicPick(service, exclude);
  }

  /** Hears every request sent past breakers and health checks. */
  onPanicRouted(listener: () => void): void {
    this.panicListeners.push(listener);
  }

  /** Whether breakers and health checks have taken every upstream of some service out, so its requests are panic-routed. */
  get panicking(): boolean {
    for (const service of this.pool.services.values()) if (isPanicking(service.upstreams)) return true;
    return false;
  }

  /**
   * The only place upstreams are filtered. Returns the list itself when all qualify (the usual
   * case): no allocation on the hot path.
   */
  private candidates(all: readonly Upstream[], exclude: ReadonlySet<Upstream> | undefined): readonly Upstream[] {
    let qualifying = 0;
    for (const upstream of all) if (qualifies(upstream, exclude)) qualifying++;
    if (qualifying === all.length) return all;
    return all.filter((upstream) => qualifies(upstream, exclude));
  }

  private panicPick(service: ServicePool, exclude: ReadonlySet<Upstream> | undefined): Upstream | undefined {
    const withRoom = service.upstreams.filter((upstream) => upstream.hasRoom && !exclude?.has(upstream));
    const chosen = service.strategy.select(withRoom);
    if (chosen) for (const listener of this.panicListeners) listener();
    return chosen;
  }
}

function isPanicking(upstreams: readonly Upstream[]): boolean {
  return upstreams.length > 0 && upstreams.every((upstream) => !upstream.healthy || !upstream.breaker.canTakeTraffic);
}

function qualifies(upstream: Upstream, exclude: ReadonlySet<Upstream> | undefined): boolean {
  return upstream.isAvailable() && !exclude?.has(upstream);
}
