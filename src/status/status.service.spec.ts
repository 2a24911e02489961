import type { HttpAdapterHost } from '@nestjs/core';
import type { ClusterHeartbeat } from '../cluster/cluster-heartbeat.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BackendHealth, type BackendState, MetricsService } from '../metrics/metrics.service.js';
import { RecentStats } from '../metrics/recent-stats.js';
import type { BalancerService } from '../balancer/balancer.service.js';
import type { WholeProcessMetrics } from '../metrics/whole-process-metrics.js';
import { StatusService } from './status.service.js';
import { backendAvailability } from './status-view.js';
import { routingFromFlags } from '../config/config-file.js';
import { parseGatewayConfig } from '../config/parse-gateway-config.js';
import type { RunningConfig } from '../routing/running-config.js';

/** The running configuration of a gateway started with flags alone. */
function runningFlags(): RunningConfig {
  return { routing: routingFromFlags(parseGatewayConfig([], {})) } as RunningConfig;
}

describe(backendAvailability.name, () => {
  it.each<[BackendState, BackendHealth, string]>([
    ['closed', 'healthy', 'up'],
    ['half-open', 'healthy', 'probing'],
    ['open', 'healthy', 'down'],
    ['closed', 'unhealthy', 'down'],
    ['half-open', 'unhealthy', 'down'],
    ['open', 'unhealthy', 'down'],
  ])('reads a %s breaker and %s checks as %s', (state, health, availability) => {
    expect(backendAvailability(state, health)).toBe(availability);
  });
});

describe(StatusService.name, () => {
  function setUp() {
    const metrics = new MetricsService();
    let nowMs = 1_700_000_000_000;
    const recent = new RecentStats({ now: () => nowMs });
    const balancer = { panicking: false };
    const heartbeat = { clustered: false } as ClusterHeartbeat;
    const status = new StatusService(metrics, recent, balancer as BalancerService, heartbeat, {} as HttpAdapterHost, runningFlags());
    return { metrics, recent, status, balancer, advance: (ms: number) => (nowMs += ms) };
  }

  it('lists every backend in the configured order, with its state, counters and last minute', () => {
    const { metrics, recent, status } = setUp();
    metrics.backend('http://a:1');
    metrics.backend('http://b:2');
    metrics.breakerChanged('http://b:2', 'open');
    metrics.backend('http://b:2').errors = 5;
    recent.recordTry('http://a:1', 200, 4);
    recent.recordTry('http://b:2', 502, 1);
    recent.recordRequest({ status: 200, durationMs: 5 });

    const view = status.view();
    expect(view.backends.map((backend) => [backend.url, backend.availability, backend.breaker, backend.health])).toEqual([
      ['http://a:1', 'up', 'closed', 'healthy'],
      ['http://b:2', 'down', 'open', 'healthy'],
    ]);
    expect(view.backends[1].totals.errors).toBe(5);
    expect(view.backends[0].lastMinute.requestsPerSecond).toBe(1);
    expect(view.backends[1].lastMinute.errorRatio).toBe(1);
    expect(view.windowSeconds).toBe(60);
  });

  it('reports the gateway totals of the counters and the last minute of every request', () => {
    const { metrics, recent, status } = setUp();
    metrics.requests = 10;
    metrics.responses = 7;
    metrics.errors = 2;
    metrics.rateLimited = 4;
    metrics.panicRouted = 3;
    recent.recordRequest({ status: 503, durationMs: 1 });
    const { gateway } = status.view();
    expect(gateway.totals).toEqual({ requests: 10, responses: 7, errors: 2, aborted: 0, inFlight: 1, rateLimited: 4, retries: 0, panicRouted: 3 });
    expect(gateway.lastMinute).toMatchObject({ requestsPerSecond: 1, errorsPerSecond: 1 });
  });

  it('tells since when each backend has been in its state, and the last error it gave with when', () => {
    const { metrics, status } = setUp();
    metrics.backend('http://a:1');
    metrics.backend('http://b:2');
    metrics.backend('http://a:1').since = 1_700_000_000_000;
    Object.assign(metrics.backend('http://b:2'), { since: 1_700_000_100_000, lastError: 'ECONNREFUSED', lastErrorAt: 1_700_000_099_000 });
    const [a, b] = status.view().backends;
    expect({ since: a.since, lastError: a.lastError }).toEqual({ since: 1_700_000_000_000, lastError: null });
    expect({ since: b.since, lastError: b.lastError }).toEqual({ since: 1_700_000_100_000, lastError: { reason: 'ECONNREFUSED', at: 1_700_000_099_000 } });
  });

  it('names the gateway’s version from package.json and when it started', () => {
    const { metrics, status } = setUp();
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const { gateway } = status.view();
    expect(gateway.version).toBe(version);
    expect(gateway.startedAt).toBe(metrics.startedAt);
    expect(Math.abs(gateway.startedAt - Date.now())).toBeLessThan(60_000);
  });

  it('says the pool is panic routing when the balancer says so, and only then', () => {
    const { status, balancer } = setUp();
    expect(status.view().gateway.panicRouting).toBe(false);
    balancer.panicking = true;
    expect(status.view().gateway.panicRouting).toBe(true);
  });

  it('renders the same view as a page', async () => {
    const { metrics, status } = setUp();
    metrics.backend('http://a:1').health = 'unhealthy';
    expect(await status.page()).toMatch(/data-backend="http:\/\/a:1".*<span class="badge down">down<\/span>/s);
  });

  it('answers for every worker with --workers: totals summed, the rest its own', async () => {
    const metrics = new MetricsService();
    metrics.backend('http://a:1').requests = 3;
    metrics.requests = 3;
    metrics.breakerChanged('http://a:1', 'open');
    const whole: WholeProcessMetrics = {
      snapshot: () =>
        Promise.resolve({
          ...metrics.snapshot(),
          requests: 10,
          rateLimited: 4,
          backends: [{ url: 'http://a:1', service: 'default', requests: 9, responses: 8, errors: 1, inFlight: 0, state: 'closed' as const, health: 'healthy' as const, breakerOrigin: 'local' as const, healthOrigin: 'local' as const }],
        }),
      prometheus: () => Promise.reject(new Error('not used')),
    };
    const status = new StatusService(metrics, new RecentStats(), { panicking: false } as BalancerService, { clustered: false } as ClusterHeartbeat, {} as HttpAdapterHost, runningFlags(), whole);
    const view = await status.wholeView();
    expect(view.gateway.totals).toMatchObject({ requests: 10, rateLimited: 4 });
    expect(view.backends[0]).toMatchObject({ totals: { requests: 9, responses: 8, errors: 1 }, breaker: 'open' });
  });
});
