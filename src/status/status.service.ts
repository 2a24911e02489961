import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { RecentStats, WINDOW_SECONDS } from '../metrics/recent-stats.js';
import { renderStatusPage } from './status.page.js';
import { backendAvailability, type StatusView } from './status-view.js';

/** Builds the status view from the live counters and the last minute's stats. */
@Injectable()
export class StatusService {
  constructor(
    private readonly metrics: MetricsService,
    private readonly recent: RecentStats,
  ) {}

  view(): StatusView {
    const { metrics } = this;
    return {
      generatedAt: new Date().toISOString(),
      windowSeconds: WINDOW_SECONDS,
      gateway: {
        totals: {
          requests: metrics.requests,
          responses: metrics.responses,
          errors: metrics.errors,
          aborted: metrics.aborted,
          inFlight: metrics.inFlight,
          rateLimited: metrics.rateLimited,
          retries: metrics.retries,
        },
        lastMinute: this.recent.total(),
      },
      backends: metrics.allBackends().map((backend) => ({
        url: backend.url,
        availability: backendAvailability(backend.state, backend.health),
        breaker: backend.state,
        health: backend.health,
        inFlight: backend.inFlight,
        totals: { requests: backend.requests, responses: backend.responses, errors: backend.errors },
        lastMinute: this.recent.backend(backend.url),
      })),
    };
  }

  page(): string {
    return renderStatusPage(this.view());
  }
}
