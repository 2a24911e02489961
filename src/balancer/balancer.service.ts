import { Injectable } from '@nestjs/common';
import type { ServicePool } from './service-pool.js';
import type { Upstream } from './upstream.js';
import { UpstreamPool } from './upstream-pool.js';

/** What a request brings to the choice of its backend, read from it by the proxy. */
export interface BalanceHints {
  /** What consistent-hash hashes (`hashOn`); undefined when the service does not hash or the request lacks it. */
  readonly hashKey: string | undefined;
  /** The service's sticky cookie's value in the request, when it has one. */
  readonly stickyTo: string | undefined;
}

/**
 * Picks the upstream of a service for a request: filters to the available ones, then lets a sticky
 * cookie name one of them, else asks the service's strategy. When breakers and health checks have
 * taken every upstream of the service out, it sends to them anyway (panic routing, as Envoy's panic
 * threshold and NGINX's "a single server is never marked unavailable"): those signals can be wrong
 * about part of the traffic (one failing endpoint opens a breaker for every path), and a possible
 * answer beats a certain 503. Concurrency caps are never overridden: a pool emptied by them is
 * shedding load, and answers 503. Every strategy meets retries, caps and panic routing here, the same way.
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
  pick(service: ServicePool, hints?: BalanceHints, exclude?: ReadonlySet<Upstream>): Upstream | undefined {
    const all = service.upstreams;
    const candidates = this.candidates(all, exclude);
    if (candidates.length > 0) return choose(service, candidates, hints);
    if (all.some((upstream) => upstream.isAvailable())) return undefined;
    return this.panicPick(service, hints, exclude);
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

  private panicPick(service: ServicePool, hints: BalanceHints | undefined, exclude: ReadonlySet<Upstream> | undefined): Upstream | undefined {
    const withRoom = service.upstreams.filter((upstream) => upstream.hasRoom && !exclude?.has(upstream));
    const chosen = withRoom.length > 0 ? choose(service, withRoom, hints) : undefined;
    if (chosen) for (const listener of this.panicListeners) listener();
    return chosen;
  }
}

/** The backend a sticky cookie names when it is a candidate, else the strategy's choice. */
function choose(service: ServicePool, candidates: readonly Upstream[], hints: BalanceHints | undefined): Upstream | undefined {
  const stickyTo = hints?.stickyTo;
  if (stickyTo !== undefined && service.sticky !== undefined) {
    const held = service.sticky.held(candidates, stickyTo);
    if (held !== undefined) return held;
  }
  return service.strategy.select(candidates, hints?.hashKey);
}

function isPanicking(upstreams: readonly Upstream[]): boolean {
  return upstreams.length > 0 && upstreams.every((upstream) => !upstream.healthy || !upstream.breaker.canTakeTraffic);
}

function qualifies(upstream: Upstream, exclude: ReadonlySet<Upstream> | undefined): boolean {
  return upstream.isAvailable() && !exclude?.has(upstream);
}
