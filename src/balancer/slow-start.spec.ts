import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BreakerStateListener } from '../breaker/circuit-breaker.service.js';
import type { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { UpstreamBreaker } from '../breaker/upstream-breaker.js';
import { poolOf, serviceOver } from '../../test/support/service-pool.js';
import type { ActiveHealthChecker, HealthChangeListener } from './health-checks/active-health-checker.js';
import type { ServicePool } from './service-pool.js';
import { SlowStart } from './slow-start.js';
import { RoundRobinStrategy } from './strategies/round-robin.strategy.js';
import { currentWeight, RAMP_FLOOR } from './strategies/weights.js';
import { Upstream } from './upstream.js';
import type { PoolListener, UpstreamPool } from './upstream-pool.js';

describe(SlowStart.name, () => {
  let a: Upstream;
  let b: Upstream;
  let service: ServicePool;
  let poolListeners: PoolListener[];
  let breakerListeners: BreakerStateListener[];
  let healthListeners: HealthChangeListener[];

  /** SlowStart over one service of a and b with `--slow-start=10s` (or the flags given), listening to fakes it can be told through. */
  function slowStart(flags = ['--slow-start=10s']): void {
    service = serviceOver([a, b], flags);
    const pool = poolOf(service);
    poolListeners = [];
    breakerListeners = [];
    healthListeners = [];
    Object.assign(pool, { onChange: (listener: PoolListener) => poolListeners.push(listener), upstream: (url: string) => [a, b].find((upstream) => upstream.url === url) });
    const breakers = { onStateChange: (listener: BreakerStateListener) => breakerListeners.push(listener) } as unknown as CircuitBreakerService;
    const health = { onHealthChange: (listener: HealthChangeListener) => healthListeners.push(listener) } as unknown as ActiveHealthChecker;
    new SlowStart(pool as UpstreamPool, breakers, health);
  }

  /** a's share of `picks` round-robin picks between a and b. */
  function shareOfA(picks = 1_100): number {
    const strategy = new RoundRobinStrategy();
    let count = 0;
    for (let i = 0; i < picks; i++) if (strategy.select([a, b]) === a) count++;
    return count / picks;
  }

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance'] });
    a = new Upstream('http://127.0.0.1:1', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    b = new Upstream('http://127.0.0.1:2', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
  });

  afterEach(() => {
    vi.useRealTimers();
    a.close();
    b.close();
  });

  it('leaves the backends a gateway starts with at full weight', () => {
    slowStart();
    expect(shareOfA()).toBe(0.5);
  });

  it.each([
    { after: 0, weight: RAMP_FLOOR },
    { after: 500, weight: RAMP_FLOOR },
    { after: 2_500, weight: 0.25 },
    { after: 5_000, weight: 0.5 },
    { after: 9_000, weight: 0.9 },
    { after: 10_000, weight: 1 },
    { after: 60_000, weight: 1 },
  ])('ramps a backend whose breaker closed again to $weight of its weight after $after ms of 10 s', ({ after, weight }) => {
    slowStart();
    a.weight = 2;
    for (const listener of breakerListeners) listener(a.url, 'closed', 'local');
    vi.advanceTimersByTime(after);
    expect(currentWeight(a, performance.now())).toBeCloseTo(2 * weight, 5);
  });

  it('gives a ramping backend a growing share of round robin: a tenth at first, half halfway, all of it at the end', () => {
    slowStart();
    for (const listener of healthListeners) listener(a, true, 'local');
    // Weights 0.1 : 1 → 1/11 of the picks.
    expect(shareOfA()).toBeCloseTo(1 / 11, 2);
    vi.advanceTimersByTime(5_000);
    expect(shareOfA()).toBeCloseTo(0.5 / 1.5, 2);
    vi.advanceTimersByTime(5_000);
    expect(shareOfA()).toBeCloseTo(0.5, 2);
    expect(a.rampMs).toBe(0);
  });

  it('ramps a backend that joins the rotation in a new version (added, activated, discovered)', () => {
    slowStart();
    service.upstreams = [b];
    for (const listener of poolListeners) listener.applied?.();
    service.upstreams = [a, b];
    for (const listener of poolListeners) listener.applied?.();
    expect(a.rampMs).toBe(10_000);
    expect(b.rampMs).toBe(0);
  });

  it.each([
    { what: 'a breaker that opens', tell: () => breakerListeners.forEach((listener) => listener(a.url, 'open', 'local')) },
    { what: 'failing health checks', tell: () => healthListeners.forEach((listener) => listener(a, false, 'local')) },
  ])('does not ramp on $what', ({ tell }) => {
    slowStart();
    tell();
    expect(a.rampMs).toBe(0);
  });

  it('does nothing when the service has no slow start', () => {
    slowStart([]);
    for (const listener of breakerListeners) listener(a.url, 'closed', 'local');
    expect(a.rampMs).toBe(0);
    expect(shareOfA()).toBe(0.5);
  });
});
