import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreakerService } from '../src/breaker/circuit-breaker.service.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { startRedis, type TestRedis } from './support/redis.js';

const COOLDOWN_MS = 1_000;

describe('three gateways with one view of the backends through Redis (--redis-url)', () => {
  let redis: TestRedis;
  let good: TestBackend;
  let gateways: TestGateway[] = [];
  const others: TestBackend[] = [];
  let testNumber = 0;
  let prefix = '';

  beforeAll(async () => {
    redis = await startRedis();
    good = await startBackend({ name: 'good' });
  });

  beforeEach(() => {
    prefix = `breakers-${process.pid}-${++testNumber}:`;
  });

  afterEach(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    gateways = [];
    await Promise.all(others.splice(0).map((backend) => backend.close()));
  });

  afterAll(async () => {
    await good?.close();
    await redis?.stop();
  });

  /** `count` gateways over `good` and `bad`, on one Redis with a prefix of this test's own. */
  async function cluster(bad: TestBackend, flags: string[] = [], count = 3): Promise<TestGateway[]> {
    const argv = [backendsFlag(good, bad), `--redis-url=${redis.url}`, `--redis-prefix=${prefix}`, `--breaker-cooldown=${COOLDOWN_MS}ms`, '--rate-limit=100000', ...flags];
    const started = await Promise.all(Array.from({ length: count }, () => startGateway(argv)));
    gateways.push(...started);
    return started;
  }

  const breakerOf = (gateway: TestGateway, backend: TestBackend) => gateway.app.get(CircuitBreakerService).breakerFor(backend.url);
  const triesAt = (gateway: TestGateway, backend: TestBackend) => gateway.metrics.backend(backend.url).requests;

  /** Requests to one gateway, one at a time, until `done` says so (at most 200). */
  async function requestUntil(gateway: TestGateway, done: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !done(); i++) await rawRequest(`${gateway.url}/`);
    expect(done()).toBe(true);
  }

  it("opens a backend's breaker on every instance once one instance's opens: the others send it nothing after 250 ms", async () => {
    const bad = await startBackend({ name: 'bad' });
    const [first, second, third] = await cluster(bad);
    await bad.close(); // killed: connections are refused
    await requestUntil(first, () => breakerOf(first, bad).state === 'open');
    const triesBefore = [triesAt(second, bad), triesAt(third, bad)];
    await sleep(250);
    for (let i = 0; i < 20; i++) {
      const statuses = await Promise.all([second, third].map(async (gateway) => (await rawRequest(`${gateway.url}/`)).status));
      expect(statuses).toEqual([200, 200]);
    }
    expect([triesAt(second, bad), triesAt(third, bad)]).toEqual(triesBefore);
    expect([second, third].map((gateway) => [breakerOf(gateway, bad).state, breakerOf(gateway, bad).origin])).toEqual([
      ['open', 'cluster'],
      ['open', 'cluster'],
    ]);
  });

  it('shows on /health/ready, /status and /metrics that the opening came from the cluster', async () => {
    const bad = await startBackend({ name: 'bad' });
    const [first, second] = await cluster(bad, [], 2);
    await bad.close();
    await requestUntil(first, () => breakerOf(first, bad).state === 'open');
    await sleep(250);
    const ready = JSON.parse((await rawRequest(`${second.url}/health/ready`)).body.toString()) as { details: Record<string, { breaker: string; breakerOrigin: string }> };
    expect(ready.details[bad.url]).toMatchObject({ breaker: 'open', breakerOrigin: 'cluster' });
    expect(ready.details[good.url]).toMatchObject({ breaker: 'closed', breakerOrigin: 'local' });
    const status = JSON.parse((await rawRequest(`${second.url}/status?format=json`)).body.toString()) as { backends: { url: string; breaker: string; breakerOrigin: string }[] };
    expect(status.backends.find((backend) => backend.url === bad.url)).toMatchObject({ breaker: 'open', breakerOrigin: 'cluster' });
    const prometheus = (await rawRequest(`${second.url}/metrics?format=prometheus`)).body.toString();
    expect(prometheus).toContain(`gateway_backend_state_from_cluster{service="default",backend="${bad.url}",signal="breaker"} 1`);
    expect(prometheus).toContain(`gateway_backend_state_from_cluster{service="default",backend="${good.url}",signal="breaker"} 0`);
  });

  it('lets one probe through per cool-down for the whole cluster, not one per instance', async () => {
    const probes: number[] = [];
    const bad = await startBackend({
      name: 'bad',
      handler: (_req, res) => {
        probes.push(performance.now());
        res.writeHead(503).end('still broken');
      },
    });
    others.push(bad);
    const members = await cluster(bad, ['--breaker-statuses=503', '--retries=0']);
    await requestUntil(members[0], () => breakerOf(members[0], bad).state === 'open');
    await sleep(250);
    probes.length = 0;
    // Steady traffic through all three for a little over four cool-downs.
    const until = performance.now() + 4.5 * COOLDOWN_MS;
    await Promise.all(
      members.map(async (gateway) => {
        while (performance.now() < until) {
          await rawRequest(`${gateway.url}/`);
          await sleep(5);
        }
      }),
    );
    // A probe per cool-down (each fails and re-opens for another), never two in one.
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.length).toBeLessThanOrEqual(5);
    const gaps = probes.slice(1).map((at, i) => at - probes[i]);
    expect(gaps.filter((gap) => gap < 0.9 * COOLDOWN_MS)).toEqual([]);
  });

  it('closes the breaker everywhere when the probe succeeds', async () => {
    let healthy = false;
    const flaky = await startBackend({
      name: 'flaky',
      handler: (_req, res) => res.writeHead(healthy ? 200 : 503).end(),
    });
    others.push(flaky);
    const members = await cluster(flaky, ['--breaker-statuses=503', '--retries=0']);
    await requestUntil(members[0], () => breakerOf(members[0], flaky).state === 'open');
    await sleep(250);
    expect(members.map((gateway) => breakerOf(gateway, flaky).state)).toEqual(['open', 'open', 'open']);
    healthy = true;
    // Traffic through one instance only: once it holds the probe lease (at once, or when another's
    // unused lease expires), its probe closes the breaker on all three.
    const until = performance.now() + 4 * COOLDOWN_MS;
    while (performance.now() < until && members.some((gateway) => breakerOf(gateway, flaky).state !== 'closed')) {
      await rawRequest(`${members[0].url}/`);
      await sleep(10);
    }
    expect(members.map((gateway) => breakerOf(gateway, flaky).state)).toEqual(['closed', 'closed', 'closed']);
  });

  it('holds the breaker open on an instance started during the cool-down (it reads the opening from Redis)', async () => {
    const bad = await startBackend({ name: 'bad' });
    const [first] = await cluster(bad, ['--breaker-cooldown=5s'], 1);
    await bad.close();
    await requestUntil(first, () => breakerOf(first, bad).state === 'open');
    const [late] = await cluster(bad, ['--breaker-cooldown=5s'], 1);
    expect([breakerOf(late, bad).state, breakerOf(late, bad).origin]).toEqual(['open', 'cluster']);
  });

  it('checks each backend once per interval for the whole cluster, and every instance uses the result', async () => {
    let checks = 0;
    let answering = true;
    const checked = await startBackend({
      name: 'checked',
      handler: (req, res) => {
        if (req.url === '/health') checks++;
        res.writeHead(answering ? 200 : 500).end();
      },
    });
    others.push(checked);
    const members = await cluster(checked, ['--health-check-path=/health', '--health-check-interval=200ms', '--health-check-fall=2', '--health-check-rise=2']);
    await sleep(2_000);
    // Ten intervals: about ten checks, where three instances checking alone would make about thirty.
    expect(checks).toBeGreaterThanOrEqual(6);
    expect(checks).toBeLessThanOrEqual(14);
    answering = false;
    await sleep(1_500);
    const upstreams = members.map((gateway) => gateway.metrics.backend(checked.url));
    expect(upstreams.map((backend) => backend.health)).toEqual(['unhealthy', 'unhealthy', 'unhealthy']);
    expect(upstreams.some((backend) => backend.healthOrigin === 'cluster')).toBe(true);
  });
});
