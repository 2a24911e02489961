import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { breakerStateValue, healthValue } from './backend-gauge-values.js';
import { DURATION_BUCKETS_SECONDS, DurationHistogram } from './duration-histogram.js';
import { type BackendState, type CompletedRequest, MetricsService } from './metrics.service.js';
import { registerNodeMetrics } from './node-metrics.js';
import { METHOD_LABELS, methodIndex, STATUS_CLASS_LABELS, statusClassIndex } from './request-labels.js';
import { ScrapeTimeHistogram } from './scrape-time-histogram.js';

/** A scrape's answer: the body and the Content-Type that says which exposition format it is in. */
export interface PrometheusExposition {
  readonly contentType: string;
  readonly body: string;
}

/** The `backend` label of requests no backend was picked for (none available). */
export const NO_BACKEND_LABEL = 'none';

const BREAKER_STATES: readonly BackendState[] = ['closed', 'half-open', 'open'];

/** What the request path counts for one backend label, in plain numbers it can bump without allocating. */
class BackendSeries {
  /** Requests by method and status class: cell `methodIndex * STATUS_CLASS_LABELS.length + statusClassIndex`. */
  readonly requests = new Float64Array(METHOD_LABELS.length * STATUS_CLASS_LABELS.length);
  readonly upstreamDuration = new DurationHistogram(DURATION_BUCKETS_SECONDS);

  constructor(
    readonly backend: string,
    readonly service: string,
  ) {}
}

/**
 * The gateway's metrics in Prometheus's text format, through prom-client on a Registry of its own
 * (the global one would clash when tests start several gateways in one process).
 *
 * Nothing here calls prom-client per request: its `inc()`/`observe()` build a label-hash string
 * and validate labels on every call, even on a cached `labels()` child (~190–240 ns each, against
 * a few ns for an array cell), and the proxy serves 17–26k requests a second. The request path
 * bumps plain arrays; each metric's `collect()` publishes them when Prometheus scrapes. Counters
 * that MetricsService already keeps (retries, 429s, in flight, breakers, health) are read from it
 * at scrape time, not counted twice.
 */
@Injectable()
export class PrometheusExporter {
  private readonly registry = new Registry();
  /** By backend URL, created on a backend's first request; the set of URLs is the configured one plus `none`. */
  private readonly series = new Map<string, BackendSeries>();
  private readonly requestDuration = new DurationHistogram(DURATION_BUCKETS_SECONDS);

  constructor(private readonly metrics: MetricsService) {
    registerNodeMetrics(this.registry);
    this.registerRequestMetrics();
    this.registerGatewayCounters();
    this.registerBackendMetrics();
    metrics.onRequestCompleted(this.record);
  }

  async render(): Promise<PrometheusExposition> {
    this.registerLateMetrics();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * This process's metrics in prom-client's JSON form, for the --workers primary to aggregate with
   * the other workers' (AggregatorRegistry.aggregate: each metric by its `aggregator`, `sum` unless
   * it says otherwise).
   */
  json(): ReturnType<Registry['getMetricsAsJSON']> {
    this.registerLateMetrics();
    return this.registry.getMetricsAsJSON();
  }

  private registerLateMetrics(): void {
    // Only a gateway with --redis-url has these; it says so once its limiter is built.
    if (this.metrics.redis && !this.redisRegistered) {
      this.registerRedisMetrics();
      this.registerOriginMetrics();
    }
  }

  /** Once per proxied request: a few array cells, no allocation past a backend's first request. */
  private readonly record = (request: CompletedRequest): void => {
    const series = request.backend === undefined ? this.noBackendSeriesOf(request.service ?? NO_BACKEND_LABEL) : this.seriesOf(request.backend);
    series.requests[methodIndex(request.method) * STATUS_CLASS_LABELS.length + statusClassIndex(request.status)]++;
    this.requestDuration.observe(request.durationMs / 1000);
    if (request.upstreamMs !== undefined) series.upstreamDuration.observe(request.upstreamMs / 1000);
  };

  private seriesOf(backend: string): BackendSeries {
    let series = this.series.get(backend);
    if (!series) {
      series = new BackendSeries(backend, this.metrics.backend(backend).service);
      this.series.set(backend, series);
    }
    return series;
  }

  /** Requests of a service no backend was picked for (`backend="none"`), one series per service. */
  private noBackendSeriesOf(service: string): BackendSeries {
    const key = `\0${service}`;
    let series = this.series.get(key);
    if (!series) {
      series = new BackendSeries(NO_BACKEND_LABEL, service);
      this.series.set(key, series);
    }
    return series;
  }

  private registerRequestMetrics(): void {
    const series = this.series;
    new Counter({
      name: 'gateway_requests_total',
      help: 'Proxied requests by the backend that answered or was tried last ("none" when no backend was available), method ("other" beyond the common ones) and class of the status the client got (499 when it left first).',
      labelNames: ['service', 'backend', 'method', 'status_class'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { service, backend, requests: counts } of series.values()) {
          counts.forEach((count, cell) => {
            // Only combinations seen so far: 48 series per backend, mostly zeros, would be noise.
            if (count === 0) return;
            const method = METHOD_LABELS[Math.floor(cell / STATUS_CLASS_LABELS.length)];
            const statusClass = STATUS_CLASS_LABELS[cell % STATUS_CLASS_LABELS.length];
            this.inc({ service, backend, method, status_class: statusClass }, count);
          });
        }
      },
    });
    new ScrapeTimeHistogram(
      {
        name: 'gateway_request_duration_seconds',
        help: 'Proxied requests, from their arrival to the end of their answer as the client saw it, in seconds.',
        registers: [this.registry],
      },
      DURATION_BUCKETS_SECONDS,
      () => [{ labels: {}, histogram: this.requestDuration }],
    );
    new ScrapeTimeHistogram(
      {
        name: 'gateway_upstream_duration_seconds',
        help: 'Time from sending the last try of a request to the end of the backend response, for requests a backend answered, in seconds.',
        labelNames: ['service', 'backend'] as const,
        registers: [this.registry],
      },
      DURATION_BUCKETS_SECONDS,
      () =>
        [...series.values()]
          .filter(({ upstreamDuration }) => upstreamDuration.count > 0)
          .map(({ service, backend, upstreamDuration }) => ({ labels: { service, backend }, histogram: upstreamDuration })),
    );
  }

  private redisRegistered = false;

  /** Only a gateway in a cluster learns states from elsewhere; alone, every state is local and this says nothing. */
  private registerOriginMetrics(): void {
    const metrics = this.metrics;
    new Gauge({
      name: 'gateway_backend_state_from_cluster',
      help: 'Whether a backend\'s current breaker state or health verdict was decided by another instance of the cluster (1) or by this one (0).',
      labelNames: ['service', 'backend', 'signal'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { service, url, breakerOrigin, healthOrigin } of metrics.allBackends()) {
          this.set({ service, backend: url, signal: 'breaker' }, breakerOrigin === 'cluster' ? 1 : 0);
          this.set({ service, backend: url, signal: 'health' }, healthOrigin === 'cluster' ? 1 : 0);
        }
      },
    });
  }

  private registerRedisMetrics(): void {
    this.redisRegistered = true;
    const metrics = this.metrics;
    new Gauge({
      name: 'gateway_redis_up',
      help: 'Whether Redis answers the rate limiter (1), or requests are decided by this instance alone (0).',
      registers: [this.registry],
      // With --workers: 0 when any worker has lost Redis.
      aggregator: 'min',
      collect() {
        this.set(metrics.redis?.up ? 1 : 0);
      },
    });
    this.mirrorTotal('gateway_redis_fallback_total', 'Times the rate limiter lost Redis and went on deciding alone.', () => metrics.redis?.fallbacks ?? 0);
  }

  private registerGatewayCounters(): void {
    const metrics = this.metrics;
    new Gauge({
      name: 'gateway_instance_info',
      help: 'Always 1: which gateway answered this scrape (its id, also on /status, its host and process).',
      labelNames: ['instance_id', 'hostname', 'pid'] as const,
      registers: [this.registry],
    }).set({ instance_id: metrics.instance.id, hostname: metrics.instance.hostname, pid: String(metrics.instance.pid) }, 1);
    new Gauge({
      name: 'gateway_requests_in_flight',
      help: 'Proxied requests accepted and not finished yet.',
      registers: [this.registry],
      collect() {
        this.set(metrics.inFlight);
      },
    });
    new Gauge({
      name: 'gateway_websocket_connections',
      help: 'WebSocket tunnels open now, from a client through the gateway to a backend.',
      registers: [this.registry],
      collect() {
        this.set(metrics.websocketConnections);
      },
    });
    this.mirrorTotal('gateway_retries_total', 'Tries made again after a failed one.', () => metrics.retries);
    this.mirrorTotal('gateway_panic_routed_total', 'Requests sent to a backend out of rotation because every backend of the pool was (panic routing).', () => metrics.panicRouted);
    this.mirrorTotal(
      'gateway_log_lines_dropped_total',
      'Log lines dropped because the reader of stdout fell more than 16 MiB behind (the gateway never waits for it).',
      () => metrics.logLinesDropped(),
    );
    new Counter({
      name: 'gateway_config_reloads_total',
      help: 'Config file reloads (it changed, or SIGHUP), by result: success (applied, or unchanged) or failure (invalid: refused, the running version stays).',
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ result: 'success' }, metrics.configReloads.success);
        this.inc({ result: 'failure' }, metrics.configReloads.failure);
      },
    });
    new Gauge({
      name: 'gateway_config_info',
      help: 'Always 1: the hash of the routing configuration in force (also on /status), to tell which instances run which version.',
      labelNames: ['hash'] as const,
      registers: [this.registry],
      // With --workers: one series per version the workers run, 1 each.
      aggregator: 'max',
      collect() {
        this.reset();
        this.set({ hash: metrics.configHash }, 1);
      },
    });
    this.mirrorTotal('gateway_rate_limited_total', 'Requests refused with 429 Too Many Requests by the rate limiter.', () => metrics.rateLimited);
  }

  /** A counter for a running total MetricsService already keeps: published as it is when Prometheus scrapes. */
  private mirrorTotal(name: string, help: string, total: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(total());
      },
    });
  }

  private registerBackendMetrics(): void {
    const metrics = this.metrics;
    new Gauge({
      name: 'gateway_backend_breaker_state',
      help: 'Circuit breaker of each backend: 0 closed, 1 half-open (one probe let through), 2 open (out of rotation).',
      labelNames: ['service', 'backend'] as const,
      registers: [this.registry],
      // With --workers: the worst state any worker's breaker is in (a sum of states would mean nothing).
      aggregator: 'max',
      collect() {
        this.reset();
        for (const { service, url, state } of metrics.allBackends()) this.set({ service, backend: url }, breakerStateValue(state));
      },
    });
    new Counter({
      name: 'gateway_backend_breaker_transitions_total',
      help: 'Circuit breaker state changes of each backend, by the state entered.',
      labelNames: ['service', 'backend', 'to'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { service, url, transitions } of metrics.allBackends()) {
          for (const to of BREAKER_STATES) this.inc({ service, backend: url, to }, transitions[to]);
        }
      },
    });
    new Gauge({
      name: 'gateway_backend_healthy',
      help: 'Active health checks of each backend: 1 healthy (or checks off), 0 taken out of rotation by failed checks.',
      labelNames: ['service', 'backend'] as const,
      registers: [this.registry],
      // With --workers: 0 when any worker's checks took it out.
      aggregator: 'min',
      collect() {
        this.reset();
        for (const { service, url, health } of metrics.allBackends()) this.set({ service, backend: url }, healthValue(health));
      },
    });
  }
}
