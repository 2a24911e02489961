import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { UpstreamPool } from '../balancer/upstream-pool.js';

/**
 * Readiness over the backends: one entry per backend, keyed by its URL. A backend that cannot take
 * traffic is `degraded` while another still can (the gateway keeps serving, Terminus answers 200),
 * and `down` when none can (Terminus answers 503). Each entry also shows the two signals behind
 * `available`, its circuit breaker and its active health checks, so an operator can tell which one
 * took it out, and whether this instance decided it or another instance of the cluster (`local`, `cluster`).
 */
@Injectable()
export class UpstreamsHealthIndicator {
  constructor(
    private readonly pool: UpstreamPool,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(): HealthIndicatorResult {
    const upstreams = this.pool.upstreams;
    const anyAvailable = upstreams.some((upstream) => upstream.isAvailable());
    const result: HealthIndicatorResult = {};
    for (const upstream of upstreams) {
      const session = this.indicators.check(upstream.url);
      const details = {
        available: upstream.isAvailable(),
        breaker: upstream.breaker.state,
        breakerOrigin: upstream.breaker.origin,
        health: upstream.healthy ? 'healthy' : 'unhealthy',
        healthOrigin: upstream.healthOrigin,
      };
      Object.assign(
        result,
        details.available ? session.up(details) : anyAvailable ? session.degraded(details) : session.down(details),
      );
    }
    return result;
  }
}
