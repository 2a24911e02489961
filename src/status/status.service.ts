import { Inject, Injectable, Optional } from '@nestjs/common';
import { BalancerService } from '../balancer/balancer.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RecentStats, WINDOW_SECONDS } from '../metrics/recent-stats.js';
import { WHOLE_PROCESS_METRICS, type WholeProcessMetrics } from '../metrics/whole-process-metrics.js';
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
    /** With --workers, every worker's counters; undefined in a single process. */
    @Optional() @Inject(WHOLE_PROCESS_METRICS) private readonly wholeProcess?: WholeProcessMetrics,
  ) {}

  /**
   * The view for the whole gateway. In a single process that is view(). With --workers, the totals
   * since start are every worker's summed: the gateway's (requests, responses, errors, aborted, in
   * flight, rate limited, retries, panic-routed) and each backend's (requests, responses, errors, in
   * flight). Everything else is the answering worker's own: the last minute's rates and latencies,
   * breaker and health states with their `since`, the last error, panic routing and the start time
   * (each worker has its own recent windows; breakers agree once they are shared).
   */
  async wholeView(): Promise<StatusView> {
    const view = this.view();
    if (!this.wholeProcess) return view;
    const sums = await this.wholeProcess.snapshot();
    const { backends: _backends, workers: _workers, ...totals } = sums;
    const byUrl = new Map(sums.backends.map((backend) => [backend.url, backend]));
    return {
      ...view,
      gateway: { ...view.gateway, totals },
      backends: view.backends.map((backend) => {
        const summed = byUrl.get(backend.url);
        if (!summed) return backend;
        return { ...backend, inFlight: summed.inFlight, totals: { requests: summed.requests, responses: summed.responses, errors: summed.errors } };
      }),
    };
  }

  view(): StatusView {
    const { metrics } = this;
    const backends = metrics.allBackends().map(
      (backend): BackendStatus => ({
        url: backend.url,
        availability: backendAvailability(backend.state, backend.health),
        breaker: backend.state,
        health: backend.health,
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

  async page(): Promise<string> {
    return renderStatusPage(await this.wholeView());
  }
}
