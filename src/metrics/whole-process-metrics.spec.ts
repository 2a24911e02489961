import { describe, expect, it } from 'vitest';
import { type MetricsSnapshot, sumMetricsSnapshots } from './whole-process-metrics.js';

const worker = (requests: number, state: 'closed' | 'open' | 'half-open', health: 'healthy' | 'unhealthy', origin: 'local' | 'cluster' = 'local'): MetricsSnapshot => ({
  instance: { id: `worker-${requests}-0-0-0` as `${string}-${string}-${string}-${string}-${string}`, hostname: 'h', pid: requests },
  requests,
  responses: requests - 1,
  errors: 1,
  aborted: 0,
  inFlight: 0,
  rateLimited: 2,
  retries: 1,
  websocketConnections: 1,
  panicRouted: 0,
  config: { hash: 'abc', reloads: { success: 0, failure: 0 } },
  backends: [
    { url: 'http://a', service: 'default', requests, responses: requests, errors: 0, inFlight: 0, state: 'closed', health: 'healthy', breakerOrigin: 'local', healthOrigin: 'local' },
    { url: 'http://b', service: 'default', requests: 1, responses: 0, errors: 1, inFlight: 0, state, health, breakerOrigin: origin, healthOrigin: origin },
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

  it("says a backend's state came from the cluster when any worker learnt it there, and names the first snapshot's instance", () => {
    const sum = sumMetricsSnapshots([worker(1, 'open', 'healthy'), worker(2, 'open', 'unhealthy', 'cluster')]);
    expect(sum.backends[1]).toMatchObject({ breakerOrigin: 'cluster', healthOrigin: 'cluster' });
    expect(sum.backends[0]).toMatchObject({ breakerOrigin: 'local', healthOrigin: 'local' });
    expect(sum.instance.id).toBe('worker-1-0-0-0');
  });

  it('leaves the inputs untouched', () => {
    const one = worker(3, 'closed', 'healthy');
    sumMetricsSnapshots([one, one]);
    expect(one.backends[0].requests).toBe(3);
  });
});
