import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

const HEALTH_CHECK_FLAGS = [
  '--health-check-interval=100ms',
  '--health-check-fall=2',
  '--health-check-rise=2',
  '--health-check-path=/healthz',
  '--rate-limit=0',
];

/** Polls until `condition` holds; fails naming `what` after a generous deadline, never on exact timing. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>, deadlineMs = 5_000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

/** A backend that answers its name, and `/healthz` with whatever status the test sets. */
async function startCheckedBackend(name: string, options: { prefix?: string } = {}) {
  const health = { status: 200 };
  const backend = await startBackend({
    name,
    handler: (req, res) => {
      if (req.url === `${options.prefix ?? ''}/healthz`) res.writeHead(health.status).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    },
  });
  return { backend, health };
}

describe('active health checks', () => {
  let one: TestBackend | undefined;
  let two: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await one?.close();
    await two?.close();
    gateway = one = two = undefined;
  });

  it('take a backend whose /healthz fails out of rotation, and put it back once it passes again', async () => {
    const first = await startCheckedBackend('one');
    const second = await startCheckedBackend('two');
    one = first.backend;
    two = second.backend;
    gateway = await startGateway([backendsFlag(one, two), ...HEALTH_CHECK_FLAGS]);
    const backendMetrics = async () => (await request(gateway!.url).get('/metrics').expect(200)).body.backends[1];

    await eventually('backend two has been checked', () => two!.requests.some((seen) => seen.url === '/healthz'));
    second.health.status = 500;
    await eventually('/metrics reports backend two unhealthy', async () => (await backendMetrics()).health === 'unhealthy');

    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await request(gateway.url).get(`/while-failing/${i}`).expect(200)).text);
    expect(bodies).toEqual(['one', 'one', 'one', 'one', 'one', 'one']);
    expect(two.requests.filter((seen) => seen.url.startsWith('/while-failing'))).toEqual([]);
    expect(await backendMetrics()).toMatchObject({ url: two.url, state: 'closed', health: 'unhealthy' });
    const ready = await request(gateway.url).get('/health/ready').expect(200);
    expect(ready.body.details).toEqual({
      [one.url]: { status: 'up', available: true, breaker: 'closed', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
      [two.url]: { status: 'degraded', available: false, breaker: 'closed', breakerOrigin: 'local', health: 'unhealthy', healthOrigin: 'local' },
    });

    second.health.status = 200;
    await eventually('/metrics reports backend two healthy again', async () => (await backendMetrics()).health === 'healthy');
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push((await request(gateway.url).get(`/back/${i}`).expect(200)).text);
    expect(new Set(after)).toEqual(new Set(['one', 'two']));
    expect((await request(gateway.url).get('/health/ready').expect(200)).body.details[two.url]).toEqual({
      status: 'up',
      available: true,
      breaker: 'closed',
      breakerOrigin: 'local',
      health: 'healthy',
      healthOrigin: 'local',
    });
  });

  it("check a backend's /healthz under its path prefix", async () => {
    const prefixed = await startCheckedBackend('prefixed', { prefix: '/api' });
    one = prefixed.backend;
    gateway = await startGateway([`--backends=${one.url}/api`, ...HEALTH_CHECK_FLAGS]);

    await eventually('the backend has been checked twice', () => one!.requests.filter((seen) => seen.url === '/api/healthz').length >= 2);
    expect(one.requests.every((seen) => seen.url === '/api/healthz')).toBe(true);
    const ready = await request(gateway.url).get('/health/ready').expect(200);
    expect(ready.body.details[`${one.url}/api`]).toMatchObject({ available: true, health: 'healthy' });
  });
});
