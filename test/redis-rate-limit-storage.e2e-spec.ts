import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisSlidingWindowStorage } from '../src/proxy/rate-limit/redis-sliding-window.storage.js';
import { startRedis, type TestRedis } from './support/redis.js';

/** A client as an instance of the gateway would hold one: no offline queue, a deadline per call. */
function clientOf(redis: TestRedis): Redis {
  return new Redis(redis.url, { enableOfflineQueue: false, commandTimeout: 1_000, maxRetriesPerRequest: 0, lazyConnect: false });
}

async function ready(client: Redis): Promise<Redis> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

describe('the Redis sliding window (a real redis-server)', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  let prefix: string;
  let testNumber = 0;

  async function storage(): Promise<RedisSlidingWindowStorage> {
    const client = await ready(clientOf(redis));
    clients.push(client);
    return new RedisSlidingWindowStorage(client, prefix);
  }

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.quit()));
  });

  afterAll(async () => {
    await redis?.stop();
  });

  // A prefix per test: tests never see each other's counts.
  const next = () => (prefix = `test${++testNumber}-${process.pid}:`);

  it('admits the limit within a window and refuses the next, saying when to come back', async () => {
    next();
    const store = await storage();
    const records = [];
    for (let i = 0; i < 6; i++) records.push(await store.increment('10.0.0.1', 1_000, 5, 0, 'default'));
    expect(records.map((record) => record.isBlocked)).toEqual([false, false, false, false, false, true]);
    expect(records.slice(0, 5).map((record) => record.totalHits)).toEqual([1, 2, 3, 4, 5]);
    expect(records[5].timeToBlockExpire).toBe(1);
  });

  it('does not count hits whose call timed out while Redis was frozen, once it resumes', async () => {
    next();
    const client = await ready(new Redis(redis.url, { enableOfflineQueue: false, commandTimeout: 50, maxRetriesPerRequest: 0 }));
    clients.push(client);
    const store = new RedisSlidingWindowStorage(client, prefix);
    await store.increment('10.0.0.1', 10_000, 5, 0, 'default'); // one that counts, before the freeze
    redis.freeze();
    try {
      const late = await Promise.allSettled([1, 2, 3].map(() => store.increment('10.0.0.1', 10_000, 5, 0, 'default')));
      expect(late.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
      await sleep(100); // well past every deadline
    } finally {
      redis.thaw();
    }
    await sleep(100); // Redis runs what was queued in its socket meanwhile
    const check = await storage();
    expect((await check.increment('10.0.0.1', 10_000, 5, 0, 'default')).totalHits).toBe(2);
  });

  it('counts one limit for every instance sharing the prefix, and separately per client', async () => {
    next();
    const instances = await Promise.all([storage(), storage(), storage()]);
    const admitted = [];
    for (let i = 0; i < 30; i++) admitted.push(!(await instances[i % 3].increment('10.0.0.1', 1_000, 10, 0, 'default')).isBlocked);
    expect(admitted.filter(Boolean)).toHaveLength(10);
    expect((await instances[0].increment('10.0.0.2', 1_000, 10, 0, 'default')).isBlocked).toBe(false);
  });

  it('never admits more than the limit in any rolling window, three instances hammering at once', async () => {
    next();
    const instances = await Promise.all([storage(), storage(), storage()]);
    const admittedAt: number[] = [];
    const until = performance.now() + 1_200;
    // Each instance sends as fast as Redis answers: far more than the limit of 20 per 300 ms.
    await Promise.all(
      instances.map(async (store) => {
        while (performance.now() < until) {
          const { record, decidedAtMs } = await store.hit('10.0.0.1', 300, 20, 0, 'default');
          if (!record.isBlocked) admittedAt.push(decidedAtMs);
        }
      }),
    );
    admittedAt.sort((a, b) => a - b);
    let most = 0;
    for (let first = 0, last = 0; last < admittedAt.length; last++) {
      while (admittedAt[last] - admittedAt[first] > 300) first++;
      most = Math.max(most, last - first + 1);
    }
    // On Redis's clock, the one the window slides on: never more than the limit in any 300 ms.
    expect(most).toBeLessThanOrEqual(20);
    // And the limit is reached, not starved: at least three full windows' worth over 1.2 s.
    expect(admittedAt.length).toBeGreaterThanOrEqual(60);
  });

  it('keeps one key per client, named with a hash tag (Redis Cluster puts each on one slot)', async () => {
    next();
    const store = await storage();
    await store.increment('2001:db8::/64', 1_000, 5, 0, 'default');
    expect(await clients[0].keys(`${prefix}*`)).toEqual([`${prefix}rl:{2001:db8::/64}:default`]);
  });

  it('does not count refused hits: once the window slides past the admitted ones, hits are admitted again', async () => {
    next();
    const store = await storage();
    for (let i = 0; i < 3; i++) expect((await store.increment('10.0.0.1', 200, 3, 0, 'default')).isBlocked).toBe(false);
    // Refused all through the window: none of these may extend it.
    for (let i = 0; i < 5; i++) expect((await store.increment('10.0.0.1', 200, 3, 0, 'default')).isBlocked).toBe(true);
    await sleep(260);
    expect((await store.increment('10.0.0.1', 200, 3, 0, 'default')).isBlocked).toBe(false);
  });

  it('blocks for the block duration when one is set', async () => {
    next();
    const store = await storage();
    await store.increment('10.0.0.1', 200, 1, 5_000, 'default');
    const refused = await store.increment('10.0.0.1', 200, 1, 5_000, 'default');
    expect(refused.isBlocked).toBe(true);
    expect(refused.timeToBlockExpire).toBe(5);
    await sleep(300);
    // The window has slid, but the block still holds.
    expect((await store.increment('10.0.0.1', 200, 1, 5_000, 'default')).isBlocked).toBe(true);
  });

  it('lets its keys expire once their window is over', async () => {
    next();
    const store = await storage();
    await store.increment('10.0.0.1', 200, 5, 0, 'default');
    const ttlMs = await clients[0].pttl(store.keyOf('10.0.0.1', 'default'));
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(210);
  });
});
