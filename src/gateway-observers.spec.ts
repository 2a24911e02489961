import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { failAttempts } from '../test/support/breaker.js';
import { BalancerService } from './balancer/balancer.service.js';
import type { HealthChangeListener } from './balancer/health-checks/active-health-checker.js';
import type { ActiveHealthChecker } from './balancer/health-checks/active-health-checker.js';
import { Upstream } from './balancer/upstream.js';
import type { ServicePool } from './balancer/service-pool.js';
import { poolOf, serviceOver } from '../test/support/service-pool.js';
import { CircuitBreakerService } from './breaker/circuit-breaker.service.js';
import { parseGatewayConfig } from './config/parse-gateway-config.js';
import { GatewayObservers } from './gateway-observers.js';
import type { BatchedLineWriter } from './logging/batched-line-writer.js';
import type { RootLogger } from './logging/root-logger.js';
import { MetricsService } from './metrics/metrics.service.js';

const URL_A = 'http://127.0.0.1:8081';

describe(GatewayObservers.name, () => {
  let breakers: CircuitBreakerService;
  let upstream: Upstream;
  let healthListeners: HealthChangeListener[];
  let balancer: BalancerService;
  let service: ServicePool;
  let metrics: MetricsService;
  let stdoutLines: { dropped: number };

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    breakers = new CircuitBreakerService(parseGatewayConfig([`--backends=${URL_A}`], {}));
    upstream = new Upstream(URL_A, breakers.breakerFor(URL_A));
    healthListeners = [];
    const checks = { onHealthChange: (listener: HealthChangeListener) => healthListeners.push(listener) } as unknown as ActiveHealthChecker;
    service = serviceOver([upstream]);
    balancer = new BalancerService(poolOf(service));
    metrics = new MetricsService();
    stdoutLines = { dropped: 0 };
    const logger = { lines: stdoutLines as BatchedLineWriter } as RootLogger;
    new GatewayObservers(breakers, checks, balancer, metrics, logger).onModuleInit();
  });

  afterEach(() => {
    upstream.close();
    vi.useRealTimers();
  });

  const healthChanged = (healthy: boolean) => {
    for (const listener of healthListeners) listener(upstream, healthy, 'local');
  };

  it("shows the stdout writer's count of dropped log lines in the metrics, as it is when read", () => {
    expect(metrics.logLinesDropped()).toBe(0);
    stdoutLines.dropped = 7;
    expect(metrics.logLinesDropped()).toBe(7);
  });

  it('shows a breaker that opens in the metrics, with when it happened', async () => {
    vi.advanceTimersByTime(5_000);
    await failAttempts(upstream.breaker, 5);
    const counters = metrics.backend(URL_A);
    expect(counters.state).toBe('open');
    expect(counters.transitions.open).toBe(1);
    expect(counters.since).toBe(Date.now());
  });

  it('closes an open breaker when the health checks bring its backend back', async () => {
    await failAttempts(upstream.breaker, 5);
    healthChanged(false);
    expect(metrics.backend(URL_A).health).toBe('unhealthy');
    healthChanged(true);
    expect(upstream.breaker.state).toBe('closed');
    expect(metrics.backend(URL_A)).toMatchObject({ health: 'healthy', state: 'closed' });
  });

  it('counts panic-routed requests', async () => {
    await failAttempts(upstream.breaker, 5);
    balancer.pick(service);
    balancer.pick(service);
    expect(metrics.panicRouted).toBe(2);
  });
});
