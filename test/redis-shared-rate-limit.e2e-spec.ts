import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterHeartbeat } from '../src/cluster/cluster-heartbeat.js';
import { RedisConnection } from '../src/cluster/redis-connection.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { startRedis, type TestRedis } from './support/redis.js';

const LIMIT = 12;

describe('three gateways sharing one rate limit through Redis (--redis-url)', () => {
  let redis: TestRedis;
  let backend: TestBackend;
  let gateways: TestGateway[] = [];
  let testNumber = 0;

  beforeAll(async () => {
    redis = await startRedis();
    backend = await startBackend();
  });

  afterEach(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    gateways = [];
  });

  afterAll(async () => {
    await backend?.close();
    await redis?.stop();
  });

  /** Three gateways on one Redis and a prefix of this test's own, so runs never share counts. */
  async function cluster(): Promise<TestGateway[]> {
    const prefix = `--redis-prefix=shared-${process.pid}-${++testNumber}:`;
    gateways = await Promise.all([0, 1, 2].map(() => startGateway([backendsFlag(backend), `--rate-limit=${LIMIT}`, `--redis-url=${redis.url}`, prefix])));
    // A gateway with a reachable Redis starts serving only once connected to it.
    expect(gateways.map((gateway) => gateway.app.get(RedisConnection).client?.status)).toEqual(['ready', 'ready', 'ready']);
    return gateways;
  }

  /** One client sending `count` requests in turn to each gateway, as fast as they answer: the statuses and the slowest. */
  async function burst(members: TestGateway[], count: number): Promise<{ statuses: number[]; slowestMs: number }> {
    const statuses: number[] = [];
    let slowestMs = 0;
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      statuses.push((await rawRequest(`${members[i % members.length].url}/`)).status);
      slowestMs = Math.max(slowestMs, performance.now() - started);
    }
    return { statuses, slowestMs };
  }

  /** Waits until each gateway's heartbeat has seen all of them (at most 5 s). */
  async function everyHeartbeatCounts(members: TestGateway[], instances: number): Promise<void> {
    for (let i = 0; i < 100 && !members.every((gateway) => gateway.app.get(ClusterHeartbeat).instances === instances); i++) await sleep(50);
    expect(members.map((gateway) => gateway.app.get(ClusterHeartbeat).instances)).toEqual(members.map(() => instances));
  }

  const admitted = (statuses: number[]) => statuses.filter((status) => status === 200).length;

  it('lets one client through the limit once across all three, not three times', async () => {
    const members = await cluster();
    const { statuses } = await burst(members, 3 * LIMIT);
    expect(admitted(statuses)).toBe(LIMIT);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
  });

  it('keeps serving when Redis is killed: no request fails or waits on it, each gateway allows its third of the limit', async () => {
    const members = await cluster();
    await burst(members, 3);
    await everyHeartbeatCounts(members, 3);
    await sleep(1_100); // a fresh window
    await redis.kill();
    const { statuses, slowestMs } = await burst(members, 3 * LIMIT);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    // Each decides alone at LIMIT / 3: the cluster as a whole still allows about the limit.
    expect(admitted(statuses)).toBe(LIMIT);
    expect(slowestMs).toBeLessThan(1_000);
    expect(members.every((gateway) => gateway.metrics.redis?.up === false)).toBe(true);
    await redis.start();
  });

  it('starts and serves with Redis down from the start, limiting locally', async () => {
    await redis.kill();
    try {
      const [gateway] = (gateways = [await startGateway([backendsFlag(backend), `--rate-limit=${LIMIT}`, `--redis-url=${redis.url}`])]);
      const { statuses } = await burst([gateway], LIMIT + 3);
      expect(admitted(statuses)).toBe(LIMIT);
      expect(statuses.slice(LIMIT)).toEqual([429, 429, 429]);
    } finally {
      await redis.start();
    }
  });

  it('shares the limit again within two seconds of Redis coming back', async () => {
    const members = await cluster();
    await burst(members, 3);
    await redis.kill();
    await burst(members, 3); // each gateway notices
    await redis.start();
    await sleep(2_000);
    const { statuses } = await burst(members, 3 * LIMIT);
    expect(admitted(statuses)).toBe(LIMIT);
    expect(members.every((gateway) => gateway.metrics.redis?.up === true)).toBe(true);
  });
});
