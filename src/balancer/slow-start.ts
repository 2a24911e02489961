import { Injectable } from '@nestjs/common';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { ActiveHealthChecker } from './health-checks/active-health-checker.js';
import type { Upstream } from './upstream.js';
import { UpstreamPool } from './upstream-pool.js';

/**
 * Slow start (NGINX's slow_start, Envoy's slow_start_config): a backend that comes back — its
 * breaker closed again, its health checks passing again, or newly in rotation (added, activated,
 * discovered) — starts its service's `slowStart` ramp, over which the strategies give it a share
 * growing from a tenth of its weight to all of it (see strategies/weights.ts), so a cold cache or
 * JIT is not handed a full share at once. The backends a gateway starts with are at full weight.
 */
@Injectable()
export class SlowStart {
  /** Every backend in rotation after the last version applied, to tell the ones that joined. */
  private inRotation = new WeakSet<Upstream>();

  constructor(
    private readonly pool: UpstreamPool,
    breakers: CircuitBreakerService,
    health: ActiveHealthChecker,
  ) {
    this.inRotation = this.rotation();
    pool.onChange({ applied: () => this.rotationChanged() });
    breakers.onStateChange((url, state) => {
      const upstream = state === 'closed' ? pool.upstream(url) : undefined;
      if (upstream) this.cameBack(upstream);
    });
    health.onHealthChange((upstream, healthy) => {
      if (healthy) this.cameBack(upstream);
    });
  }

  private rotationChanged(): void {
    for (const service of this.pool.services.values()) {
      for (const upstream of service.upstreams) if (!this.inRotation.has(upstream)) this.cameBack(upstream);
    }
    this.inRotation = this.rotation();
  }

  private cameBack(upstream: Upstream): void {
    const rampMs = this.pool.service(upstream.service)?.settings.slowStartMs ?? 0;
    if (rampMs === 0) return;
    upstream.rampStartedAt = performance.now();
    upstream.rampMs = rampMs;
  }

  private rotation(): WeakSet<Upstream> {
    const members = new WeakSet<Upstream>();
    for (const service of this.pool.services.values()) for (const upstream of service.upstreams) members.add(upstream);
    return members;
  }
}
