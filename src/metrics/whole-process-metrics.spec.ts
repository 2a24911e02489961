import { describe, expect, it } from 'vitest';
import { type MetricsSnapshot, sumMetricsSnapshots } from './whole-process-metrics.js';

const worker = (requests: number, state: 'closed' | 'open' | 'half-open', health: 'healthy' | 'unhealthy'): MetricsSnapshot => ({
  requests,
  responses: requests - 1,
  errors: 1,
  aborted: 0,
  inFlight: 0,
  rateLimited: 2,
  retries: 1,
  panicRouted: 0,
  backends: [
    { url: 'http://a', requests, responses: requests, errors: 0, inFlight: 0, state: 'closed', health: 'healthy' },
    { url: 'http://b', requests: 1, responses: 0, errors: 1, inFlight: 0, state, health },
  ],
});

describe(sumMetricsSnapshots.name, () => {
  it('sums every count, the gateway\'s and each backend\'s', () => {
    const sum = sumMetricsSnapshots([worker(10, 'closed', 'healthy'), worker(5, 'closed', 'healthy')]);
    expect(sum).toMatchObject({ requests: 15, responses: 13, errors: 2, rateLimited: 4, retries: 2 });
    expect(sum.backends.map(({ url, requests }) => [url, requests])).toEqual([
      ['http://a', 15],
      ['http://b', 2],
    ]);
  });

  it('reports the worst breaker state and health any worker has for a backend', () => {
    const sum = sumMetricsSnapshots([worker(1, 'half-open', 'healthy'), worker(1, 'open', 'unhealthy'), worker(1, 'closed', 'healthy')]);
    expect(sum.backends[1]).toMatchObject({ state: 'open', health: 'unhealthy' });
  });

  it('leaves the inputs untouched', () => {
    const one = worker(3, 'closed', 'healthy');
    sumMetricsSnapshots([one, one]);
    expect(one.backends[0].requests).toBe(3);
  });
});
