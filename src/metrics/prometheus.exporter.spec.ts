import { beforeEach, describe, expect, it } from 'vitest';
import { type CompletedRequest, MetricsService } from './metrics.service.js';
import { PrometheusExporter } from './prometheus.exporter.js';

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';

function completed(request: Partial<CompletedRequest>): CompletedRequest {
  return { backend: A, service: 'default', method: 'GET', status: 200, durationMs: 2, upstreamMs: 1, retries: 0, ...request };
}

/** The sample lines of one metric name (prefix match on `name{` or `name `), as rendered. */
function lines(body: string, name: string): string[] {
  return body.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe(PrometheusExporter.name, () => {
  let metrics: MetricsService;
  let exporter: PrometheusExporter;

  beforeEach(() => {
    metrics = new MetricsService();
    metrics.backend(A);
    metrics.backend(B);
    exporter = new PrometheusExporter(metrics);
  });

  it('publishes the log lines lost to a stdout reader that fell behind, as the logger counts them', async () => {
    let dropped = 0;
    metrics.logLinesDropped = () => dropped;
    expect(lines((await exporter.render()).body, 'gateway_log_lines_dropped_total')).toEqual(['gateway_log_lines_dropped_total 0']);
    dropped = 42;
    expect(lines((await exporter.render()).body, 'gateway_log_lines_dropped_total')).toEqual(['gateway_log_lines_dropped_total 42']);
  });

  it('answers in the Prometheus text format 0.0.4', async () => {
    expect((await exporter.render()).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('counts completed requests by backend, bucketed method and status class, only the combinations seen', async () => {
    metrics.requestCompleted(completed({}));
    metrics.requestCompleted(completed({}));
    metrics.requestCompleted(completed({ method: 'PURGE', status: 404 }));
    metrics.requestCompleted(completed({ backend: B, method: 'POST', status: 503 }));
    // The client left first: logged and counted as 499.
    metrics.requestCompleted(completed({ backend: B, status: 499, upstreamMs: undefined }));
    metrics.requestCompleted(completed({ backend: undefined, status: 503, upstreamMs: undefined }));
    expect(lines((await exporter.render()).body, 'gateway_requests_total')).toEqual([
      `gateway_requests_total{service="default",backend="${A}",method="GET",status_class="2xx"} 2`,
      `gateway_requests_total{service="default",backend="${A}",method="other",status_class="4xx"} 1`,
      `gateway_requests_total{service="default",backend="${B}",method="GET",status_class="4xx"} 1`,
      `gateway_requests_total{service="default",backend="${B}",method="POST",status_class="5xx"} 1`,
      'gateway_requests_total{service="default",backend="none",method="GET",status_class="5xx"} 1',
    ]);
  });

  it('labels each backend’s series with its service, and a request no backend took with the service it was routed to', async () => {
    const C = 'http://127.0.0.1:8083';
    metrics.backend(C, 'users');
    metrics.breakerChanged(C, 'open');
    metrics.requestCompleted(completed({ backend: C, service: 'users' }));
    metrics.requestCompleted(completed({ backend: undefined, service: 'orders', status: 503, upstreamMs: undefined }));
    const body = (await exporter.render()).body;
    expect(lines(body, 'gateway_requests_total')).toEqual([
      `gateway_requests_total{service="users",backend="${C}",method="GET",status_class="2xx"} 1`,
      'gateway_requests_total{service="orders",backend="none",method="GET",status_class="5xx"} 1',
    ]);
    expect(lines(body, 'gateway_backend_breaker_state')).toContain(`gateway_backend_breaker_state{service="users",backend="${C}"} 2`);
  });

  it('counts config reloads by result and shows the running version’s hash', async () => {
    metrics.configHash = '0123456789abcdef';
    metrics.configReloads.success = 2;
    metrics.configReloads.failure = 1;
    const body = (await exporter.render()).body;
    expect(lines(body, 'gateway_config_reloads_total')).toEqual(['gateway_config_reloads_total{result="success"} 2', 'gateway_config_reloads_total{result="failure"} 1']);
    expect(lines(body, 'gateway_config_info')).toEqual(['gateway_config_info{hash="0123456789abcdef"} 1']);
  });

  it('observes every request’s duration, and the upstream duration only of those a backend answered, in seconds', async () => {
    metrics.requestCompleted(completed({ durationMs: 3, upstreamMs: 2 }));
    metrics.requestCompleted(completed({ durationMs: 30, upstreamMs: undefined }));
    metrics.requestCompleted(completed({ backend: undefined, durationMs: 0.5, upstreamMs: undefined }));
    const { body } = await exporter.render();
    expect(lines(body, 'gateway_request_duration_seconds_count')).toEqual(['gateway_request_duration_seconds_count 3']);
    expect(lines(body, 'gateway_request_duration_seconds_bucket')).toContain('gateway_request_duration_seconds_bucket{le="0.001"} 1');
    expect(lines(body, 'gateway_request_duration_seconds_bucket')).toContain('gateway_request_duration_seconds_bucket{le="0.005"} 2');
    expect(lines(body, 'gateway_upstream_duration_seconds_count')).toEqual([`gateway_upstream_duration_seconds_count{service="default",backend="${A}"} 1`]);
    expect(lines(body, 'gateway_upstream_duration_seconds_sum')).toEqual([`gateway_upstream_duration_seconds_sum{service="default",backend="${A}"} 0.002`]);
  });

  it('publishes MetricsService’s own counters as they are when scraped, not counted a second time', async () => {
    metrics.requests = 5;
    metrics.responses = 2;
    metrics.errors = 1;
    metrics.retries = 3;
    metrics.rateLimited = 7;
    let { body } = await exporter.render();
    expect(lines(body, 'gateway_requests_in_flight')).toEqual(['gateway_requests_in_flight 2']);
    expect(lines(body, 'gateway_retries_total')).toEqual(['gateway_retries_total 3']);
    expect(lines(body, 'gateway_rate_limited_total')).toEqual(['gateway_rate_limited_total 7']);

    metrics.responses = 4;
    metrics.retries = 4;
    ({ body } = await exporter.render());
    expect(lines(body, 'gateway_requests_in_flight')).toEqual(['gateway_requests_in_flight 0']);
    expect(lines(body, 'gateway_retries_total')).toEqual(['gateway_retries_total 4']);
  });

  it('shows each backend’s breaker as 0 closed, 1 half-open, 2 open, and counts its transitions by the state entered', async () => {
    metrics.breakerChanged(A, 'open');
    metrics.breakerChanged(A, 'half-open');
    metrics.breakerChanged(B, 'open');
    metrics.breakerChanged(B, 'half-open');
    metrics.breakerChanged(B, 'open');
    const { body } = await exporter.render();
    expect(lines(body, 'gateway_backend_breaker_state')).toEqual([
      `gateway_backend_breaker_state{service="default",backend="${A}"} 1`,
      `gateway_backend_breaker_state{service="default",backend="${B}"} 2`,
    ]);
    expect(lines(body, 'gateway_backend_breaker_transitions_total')).toEqual([
      `gateway_backend_breaker_transitions_total{service="default",backend="${A}",to="closed"} 0`,
      `gateway_backend_breaker_transitions_total{service="default",backend="${A}",to="half-open"} 1`,
      `gateway_backend_breaker_transitions_total{service="default",backend="${A}",to="open"} 1`,
      `gateway_backend_breaker_transitions_total{service="default",backend="${B}",to="closed"} 0`,
      `gateway_backend_breaker_transitions_total{service="default",backend="${B}",to="half-open"} 1`,
      `gateway_backend_breaker_transitions_total{service="default",backend="${B}",to="open"} 2`,
    ]);
  });

  it('shows each backend’s active health as 1 healthy, 0 unhealthy', async () => {
    metrics.backend(B).health = 'unhealthy';
    expect(lines((await exporter.render()).body, 'gateway_backend_healthy')).toEqual([
      `gateway_backend_healthy{service="default",backend="${A}"} 1`,
      `gateway_backend_healthy{service="default",backend="${B}"} 0`,
    ]);
  });

  it('includes Node’s process metrics, on a registry of its own so that two gateways in one process do not clash', async () => {
    const second = new PrometheusExporter(new MetricsService());
    for (const { body } of [await exporter.render(), await second.render()]) {
      expect(body).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
      expect(body).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
      expect(body).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    }
  });

  it('names counters, and only counters, with _total (promtool rejects Node’s default *_total gauges), keeping Node’s handles and requests by type', async () => {
    const { body } = await exporter.render();
    const types = new Map<string, string>();
    for (const [, name, type] of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(name, type);
    expect(types.size).toBeGreaterThan(20);
    expect([...types].filter(([name, type]) => type !== 'counter' && name.endsWith('_total'))).toEqual([]);
    expect([...types].filter(([name, type]) => type === 'counter' && !name.endsWith('_total'))).toEqual([]);
    expect(types.get('nodejs_active_handles')).toBe('gauge');
    expect(types.get('nodejs_active_requests')).toBe('gauge');
  });
});
