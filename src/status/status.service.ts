import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BalancerService } from '../balancer/balancer.service.js';
import { ClusterHeartbeat, type InstanceSummary } from '../cluster/cluster-heartbeat.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RecentStats, WINDOW_SECONDS } from '../metrics/recent-stats.js';
import { WHOLE_PROCESS_METRICS, type WholeProcessMetrics } from '../metrics/whole-process-metrics.js';
import { readGatewayVersion } from './gateway-version.js';
import { RunningConfig } from '../routing/running-config.js';
import { RouteTable } from '../routing/route-table.js';
import { renderStatusPage } from './status.page.js';
import { backendAvailability, type BackendStatus, type ClusterStatus, type RoutingStatus, type StatusView } from './status-view.js';

/** Builds the status view from the live counters and the last minute's stats; in a cluster, describes this instance to the others. */
@Injectable()
export class StatusService implements OnModuleInit {
  /** Read once: package.json does not change under a running gateway. */
  private readonly version = readGatewayVersion();

  constructor(
    private readonly metrics: MetricsService,
    private readonly recent: RecentStats,
    private readonly balancer: BalancerService,
    private readonly heartbeat: ClusterHeartbeat,
    private readonly adapterHost: HttpAdapterHost,
    private readonly running: RunningConfig,
    /** With --workers, every worker's counters; undefined in a single process. */
    @Optional() @Inject(WHOLE_PROCESS_METRICS) private readonly wholeProcess?: WholeProcessMetrics,
  ) {}

  onModuleInit(): void {
    this.heartbeat.describeWith(() => this.summary());
  }

  /** What this instance's heartbeat tells the cluster about it. */
  summary(): InstanceSummary {
    return {
      address: this.address(),
      hostname: hostname(),
      pid: process.pid,
      version: this.version,
      startedAt: this.metrics.startedAt,
      requestsPerSecond: this.recent.total().requestsPerSecond,
      redisUp: this.metrics.redis?.up ?? false,
    };
  }

  /** The proxy listener's URL as bound (the port is the real one even with --listen :0). */
  private address(): string {
    const bound = this.adapterHost.httpAdapter?.getHttpServer()?.address() as AddressInfo | string | null | undefined;
    if (!bound || typeof bound === 'string') return '';
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return `http://${host}:${bound.port}`;
  }

  private cluster(): ClusterStatus | null {
    if (!this.heartbeat.clustered) return null;
    const { seenAt, members } = this.heartbeat.members;
    return { redisUp: this.metrics.redis?.up ?? false, seenAt, instances: members };
  }

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
    const { backends: _backends, workers: _workers, instance: _instance, ...totals } = sums;
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
        service: backend.service,
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
      routing: this.routing(),
      cluster: this.cluster(),
    };
  }

  /** The running configuration: made again only when its version changes. */
  private routing(): RoutingStatus {
    const { routing } = this.running;
    if (this.routingShown?.hash === routing.hash) return this.routingShown;
    this.routingShown = {
      hash: routing.hash,
      services: [...routing.services.values()].map(({ name, settings, backends }) => ({ name, balance: settings.balance, backends: backends.length })),
      routes: new RouteTable(routing.routes).routes.map((route) => ({
        host: route.host ?? null,
        pathPrefix: route.pathPrefix,
        methods: route.methods ? [...route.methods] : null,
        headers: Object.fromEntries(route.headers.map(({ name, value }) => [name, value])),
        service: route.service,
        stripPrefix: route.stripPrefix,
        rateLimit: route.rateLimitPerSecond ?? null,
      })),
    };
    return this.routingShown;
  }

  private routingShown: RoutingStatus | undefined;

  async page(): Promise<string> {
    return renderStatusPage(await this.wholeView());
  }
}
