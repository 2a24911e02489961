import { Injectable } from '@nestjs/common';
import { BalancerService } from '../balancer/balancer.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RecentStats, WINDOW_SECONDS } from '../metrics/recent-stats.js';
import { readGatewayVersion } from './gateway-version.js';
import { renderStatusPage } from './status.page.js';
import { backendAvailability, type BackendStatus, type StatusView } from './status-view.js';

/** Builds the status view from the live counters and the last minute's stats. */
@Injectable()
export class StatusService {
  /** Read once: package.json does not change under a running gateway. */
  private readonly version = readGatewayVersion();

  constructor(
    private readonly metrics: MetricsService,
    private readonly recent: RecentStats,
    private readonly balancer: BalancerService,
  ) {}

  view(): StatusView {
    const { metrics } = this;
    const backends = metrics.allBackends().map(
      (backend): BackendStatus => ({
        url: backend.url,
        availability: backendAvailability(backend.state, backend.health),
        breaker: backend.state,
        health: backend.health,
        breakerOrigin: backend.breakerOrigin,
        healthOrigin: backend.healthOrigin,
        since: backend.since,
        lastError: backend.lastError === undefined ? null : { reason: backend.lastError, at: backend.lastErrorAt },
        inFlight: backend.inFlight,
        totals: { requests: backend.requests, responses: backend.responses, errors: backend.errors },
        lastMinute: this.recent.backend(backend.url),
      }),
    );
    return {
      generatedAt: new Date().toISOString(),
      windowSeconds: WINDOW_SECONDS,
      gateway: {
        version: this.version,
        startedAt: metrics.startedAt,
        panicRouting: this.balancer.panicking,
        totals: {
          requests: metrics.requests,
          responses: metrics.responses,
          errors: metrics.errors,
          aborted: metrics.aborted,
          inFlight: metrics.inFlight,
          rateLimited: metrics.rateLimited,
          retries: metrics.retries,
          panicRouted: metrics.panicRouted,
        },
        lastMinute: this.recent.total(),
      },
      backends,
    };
  }

  page(): string {
    return renderStatusPage(this.view());
  }
}
