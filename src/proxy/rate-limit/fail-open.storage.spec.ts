import type { ThrottlerStorage } from '@nestjs/throttler';
import { beforeEach, describe, expect, it } from 'vitest';
import { FailOpenThrottlerStorage, type SharedStoreListener } from './fail-open.storage.js';
import type { ThrottlerStorageRecord } from './rate-limiter.js';
import { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';


/** A shared store that answers, or fails, as the test says. */
class ScriptedSharedStore implements ThrottlerStorage {
  failing: Error | undefined;
  calls = 0;

  increment(_key: string, _ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    this.calls++;
    if (this.failing) return Promise.reject(this.failing);
    return Promise.resolve({ totalHits: 1, timeToExpire: 1, isBlocked: limit < 1, timeToBlockExpire: 0 });
  }
}

describe(FailOpenThrottlerStorage.name, () => {
  let shared: ScriptedSharedStore;
  let now: number;
  let instances: number;
  let changes: string[];
  let storage: FailOpenThrottlerStorage;

  beforeEach(() => {
    shared = new ScriptedSharedStore();
    now = 0;
    instances = 3;
    changes = [];
    const listener: SharedStoreListener = {
      sharedStoreLost: (error) => changes.push(`lost: ${error.message}`),
      sharedStoreBack: () => changes.push('back'),
    };
    storage = new FailOpenThrottlerStorage(shared, new SlidingWindowThrottlerStorage(), () => instances, listener, () => now);
  });

  const hit = (key = '10.0.0.1', limit = 9) => storage.increment(key, 1_000, limit, 0, 'default');

  it('asks the shared store while it answers', async () => {
    expect((await hit()).isBlocked).toBe(false);
    expect(shared.calls).toBe(1);
    expect(changes).toEqual([]);
  });

  it('answers from its own window when the shared store fails, never failing the request', async () => {
    shared.failing = new Error('Command timed out');
    await expect(hit()).resolves.toMatchObject({ isBlocked: false });
    expect(changes).toEqual(['lost: Command timed out']);
  });

  it("divides the limit by the instances last seen while it answers alone: each instance allows its share", async () => {
    shared.failing = new Error('Connection is closed.');
    const admitted = [];
    for (let i = 0; i < 5; i++) admitted.push(!(await hit('10.0.0.1', 9)).isBlocked);
    // 9 across 3 instances: 3 here.
    expect(admitted).toEqual([true, true, true, false, false]);
  });

  it('stops asking a failing shared store for a second after a failure (its own breaker), then tries again', async () => {
    shared.failing = new Error('Command timed out');
    await hit();
    await hit();
    now = 999;
    await hit();
    expect(shared.calls).toBe(1);
    now = 1_000;
    shared.failing = undefined;
    await hit();
    expect(shared.calls).toBe(2);
    expect(changes).toEqual(['lost: Command timed out', 'back']);
  });

  it('says once that the shared store is lost, however many calls fail, and once that it is back', async () => {
    shared.failing = new Error('Command timed out');
    for (let i = 0; i < 3; i++) {
      await hit();
      now += 1_000;
    }
    shared.failing = undefined;
    await hit();
    await hit();
    expect(changes).toEqual(['lost: Command timed out', 'back']);
  });

  it('never divides below one request per window', async () => {
    instances = 50;
    shared.failing = new Error('Command timed out');
    expect((await hit('10.0.0.1', 9)).isBlocked).toBe(false);
  });
});
