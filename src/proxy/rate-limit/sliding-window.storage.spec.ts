import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUCKETS_PER_WINDOW, SlidingWindowThrottlerStorage, SWEEP_INTERVAL_MS } from './sliding-window.storage.js';

const TTL = 1_000;
const WIDTH = TTL / BUCKETS_PER_WINDOW;
/** A bucket boundary of the 1 s window (a multiple of 50 ms); the other ttls below need no alignment. */
const T0 = new Date('2025-01-01T00:00:00Z').getTime();

/** mulberry32: a small seeded PRNG, so the random schedules are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Most accepted hits in one interval of length ttl: half-open both ways, and closed. */
function busiestIntervals(accepted: number[], ttl: number): { forward: number; backward: number; closed: number } {
  const most = (inside: (other: number, t: number) => boolean) =>
    Math.max(0, ...accepted.map((t) => accepted.filter((other) => inside(other, t)).length));
  return {
    forward: most((other, t) => other >= t && other < t + ttl),
    backward: most((other, t) => other > t - ttl && other <= t),
    closed: most((other, t) => other >= t && other <= t + ttl),
  };
}

describe(SlidingWindowThrottlerStorage.name, () => {
  let storage: SlidingWindowThrottlerStorage;

  function hit(at: number, limit: number, options: { key?: string; ttl?: number; blockDuration?: number; name?: string } = {}) {
    const { key = '10.0.0.1', ttl = TTL, blockDuration = 0, name = 'default' } = options;
    vi.setSystemTime(at);
    return storage.increment(key, ttl, limit, blockDuration, name);
  }

  /** Replays arrival times (sorted) and returns the accepted ones and how many were refused. */
  async function replay(times: number[], limit: number, ttl = TTL): Promise<{ accepted: number[]; refused: number }> {
    const accepted: number[] = [];
    let refused = 0;
    for (const t of times) {
      if ((await hit(t, limit, { ttl })).isBlocked) refused++;
      else accepted.push(t);
    }
    return { accepted, refused };
  }

  async function expectNeverOverLimit(times: number[], limit: number, ttl = TTL): Promise<void> {
    const { accepted, refused } = await replay(times, limit, ttl);
    // The schedule must have pressed against the limit and got hits through after the first window.
    expect(refused).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(limit);
    const busiest = busiestIntervals(accepted, ttl);
    expect(busiest.forward).toBeLessThanOrEqual(limit);
    expect(busiest.backward).toBeLessThanOrEqual(limit);
    expect(busiest.closed).toBeLessThanOrEqual(limit);
  }

  afterEach(() => {
    storage.onApplicationShutdown();
    vi.useRealTimers();
  });

  describe('with fake Date', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      storage = new SlidingWindowThrottlerStorage();
    });

    it('accepts up to the limit in a window, then refuses with a whole-second Retry-After', async () => {
      const start = T0 + 4 * WIDTH;
      for (let n = 1; n <= 3; n++) {
        // The burst leaves the window one ttl after it came: 1 s from now.
        expect(await hit(start, 3)).toEqual({ totalHits: n, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
      }
      expect(await hit(start, 3)).toEqual({ totalHits: 4, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
      expect(await hit(start + 300, 3)).toEqual({ totalHits: 4, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
      // Still counted at exactly one ttl (boundaries included), gone one millisecond later.
      expect((await hit(start + TTL, 3)).isBlocked).toBe(true);
      expect(await hit(start + TTL + 1, 3)).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    });

    it('counts a hit exactly one window later as inside the window, boundaries included', async () => {
      expect((await hit(T0, 1)).isBlocked).toBe(false);
      expect((await hit(T0 + TTL, 1)).isBlocked).toBe(true);
      expect((await hit(T0 + TTL + 1, 1)).isBlocked).toBe(false);
    });

    it('forgets a bucket as a whole, one ttl after its latest hit', async () => {
      expect((await hit(T0, 2)).isBlocked).toBe(false);
      expect((await hit(T0 + WIDTH - 1, 2)).isBlocked).toBe(false); // same bucket, later
      expect((await hit(T0 + TTL + 1, 2)).isBlocked).toBe(true); // the T0 hit alone has left: the bucket still counts
      expect((await hit(T0 + TTL + WIDTH - 1, 2)).isBlocked).toBe(true);
      expect(await hit(T0 + TTL + WIDTH, 2)).toMatchObject({ isBlocked: false, totalHits: 1 });
    });

    it('advertises the wait until enough buckets have left when the limit drops between calls', async () => {
      await hit(T0, 4);
      await hit(T0, 4);
      await hit(T0 + 5 * WIDTH, 4);
      await hit(T0 + 5 * WIDTH, 4);
      // With limit 2, the two hits of bucket 0 leaving is not enough: bucket 5 must leave too, after T0 + 1 250.
      const refused = await hit(T0 + 250, 2);
      expect(refused).toEqual({ totalHits: 3, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
      expect((await hit(T0 + 1_250, 2)).isBlocked).toBe(true);
      expect((await hit(T0 + 1_251, 2)).isBlocked).toBe(false);
    });

    it('never accepts more than the limit around bucket boundaries', async () => {
      const limit = 5;
      const times: number[] = [];
      const burst = (at: number) => times.push(...Array.from({ length: limit }, () => at));
      // A full burst in the last millisecond of a bucket, then bursts on both sides of every later boundary.
      burst(T0 + WIDTH - 1);
      for (let j = 1; j <= 3 * BUCKETS_PER_WINDOW; j++) {
        burst(T0 + j * WIDTH - 1);
        burst(T0 + j * WIDTH);
      }
      await expectNeverOverLimit(times, limit);
    });

    it('never accepts more than the limit for bursts exactly one window apart', async () => {
      const times = Array.from({ length: 10 * 3 }, (_, i) => T0 + 17 + Math.floor(i / 3) * TTL);
      await expectNeverOverLimit(times, 3);
    });

    it('never accepts more than the limit from a steady stream at twice the limit', async () => {
      const limit = 10;
      const times = Array.from({ length: 20 * 2 * limit }, (_, i) => T0 + 13 + (i * TTL) / (2 * limit));
      await expectNeverOverLimit(times, limit);
    });

    it.each([
      { seed: 1, limit: 1, ttl: TTL },
      { seed: 2, limit: 4, ttl: TTL },
      { seed: 3, limit: 10, ttl: 1_234 },
      { seed: 4, limit: 3, ttl: 7 },
    ])('never accepts more than the limit for random arrivals (seed $seed, limit $limit, ttl $ttl)', async ({ seed, limit, ttl }) => {
      const random = prng(seed);
      const times: number[] = [];
      let t = T0;
      for (let i = 0; i < 1_500; i++) {
        // Many same-millisecond bursts, mostly short gaps, now and then a long one.
        const r = random();
        if (r > 0.3) t += Math.floor(random() ** 3 * ttl * (r > 0.95 ? 3 : 0.5));
        times.push(t);
      }
      await expectNeverOverLimit(times, limit, ttl);
    });

    it('does not extend the penalty of a client that keeps sending at twice its limit', async () => {
      const limit = 10;
      const windows = 21;
      const times = Array.from({ length: windows * 2 * limit }, (_, i) => T0 + (i * TTL) / (2 * limit));
      const { accepted } = await replay(times, limit);
      const perWindow = Array.from({ length: windows }, (_, w) => accepted.filter((t) => t >= T0 + w * TTL && t < T0 + (w + 1) * TTL).length);
      // The limit comes back once every window plus one bucket: N/(N+1) of it per window on average.
      expect(accepted.length).toBe(Math.floor((windows * limit * BUCKETS_PER_WINDOW) / (BUCKETS_PER_WINDOW + 1)));
      // Accepted runs last half a window here, so a fixed window that cuts one short loses one bucket.
      for (const count of perWindow) {
        expect(count).toBeGreaterThanOrEqual(0.9 * limit);
        expect(count).toBeLessThanOrEqual(limit);
      }
      for (const t of times.filter((t) => t + TTL + WIDTH <= T0 + windows * TTL)) {
        expect(accepted.filter((other) => other >= t && other < t + TTL + WIDTH)).toHaveLength(limit);
      }
    });

    it('blocks for blockDuration after a refusal, refusing without counting, then accepts again', async () => {
      const options = { blockDuration: 5_000 };
      await hit(T0, 2, options);
      await hit(T0, 2, options);
      expect(await hit(T0, 2, options)).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 5 });
      // The window has drained by now; the block alone refuses.
      expect(await hit(T0 + 1_500, 2, options)).toEqual({ totalHits: 3, timeToExpire: 0, isBlocked: true, timeToBlockExpire: 4 });
      for (let i = 0; i < 5; i++) expect((await hit(T0 + 4_999, 2, options)).timeToBlockExpire).toBe(1);
      // Had the refusals at 4 999 been counted, they would still fill this window.
      expect(await hit(T0 + 5_000, 2, options)).toMatchObject({ totalHits: 1, isBlocked: false });
      expect(await hit(T0 + 5_000, 2, options)).toMatchObject({ totalHits: 2, isBlocked: false });
      expect(await hit(T0 + 5_000, 2, options)).toMatchObject({ isBlocked: true, timeToBlockExpire: 5 });
    });

    it('keeps a block shorter than the window until the window lets a hit in', async () => {
      const options = { blockDuration: 100 };
      await hit(T0, 1, options);
      // The block runs until the window would take a hit again (T0 + 1 000), not just 100 ms.
      expect(await hit(T0 + 10, 1, options)).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
      expect((await hit(T0 + TTL - 1, 1, options)).isBlocked).toBe(true);
      expect((await hit(T0 + TTL + 1, 1, options)).isBlocked).toBe(false);
    });

    it('keeps different keys and different throttler names independent', async () => {
      expect((await hit(T0, 1, { key: 'a', name: 'x' })).isBlocked).toBe(false);
      expect((await hit(T0, 1, { key: 'b', name: 'x' })).isBlocked).toBe(false);
      expect((await hit(T0, 1, { key: 'a', name: 'y' })).isBlocked).toBe(false);
      // Client keys contain ':' (IPv6), so a plain `${name}:${key}` would merge these two.
      expect((await hit(T0, 1, { key: 'r', name: 'p:q' })).isBlocked).toBe(false);
      expect((await hit(T0, 1, { key: 'q:r', name: 'p' })).isBlocked).toBe(false);
      expect((await hit(T0, 1, { key: 'a', name: 'x' })).isBlocked).toBe(true);
      expect(storage.size).toBe(5);
    });

    it('restarts the window of a key whose ttl changes', async () => {
      await hit(T0, 2);
      await hit(T0, 2);
      expect((await hit(T0 + 100, 2)).isBlocked).toBe(true);
      expect(await hit(T0 + 100, 2, { ttl: 2_000 })).toMatchObject({ totalHits: 1, isBlocked: false });
      expect(await hit(T0 + 200, 2, { ttl: 2_000 })).toMatchObject({ totalHits: 2, isBlocked: false });
      expect((await hit(T0 + 300, 2, { ttl: 2_000 })).isBlocked).toBe(true);
      expect(storage.size).toBe(1);
    });

    it('rejects a ttl that is not a positive number of milliseconds', async () => {
      await expect(hit(T0, 1, { ttl: 0 })).rejects.toThrow(RangeError);
      await expect(hit(T0, 1, { ttl: Number.NaN })).rejects.toThrow(RangeError);
      expect(storage.size).toBe(0);
    });

    it('takes 300 000 hits for one client in constant memory', async () => {
      const limit = 1e9;
      await hit(T0, limit);
      const footprint = storage.footprint('10.0.0.1', 'default');
      // A counter and a latest-hit time per bucket.
      expect(footprint).toEqual({
        buckets: BUCKETS_PER_WINDOW + 1,
        bytes: (BUCKETS_PER_WINDOW + 1) * (Uint32Array.BYTES_PER_ELEMENT + Float64Array.BYTES_PER_ELEMENT),
      });

      let now = T0;
      let last = await hit(now, limit);
      for (let i = 2; i < 300_000; i++) {
        if (i % 10 === 0) now++;
        last = await hit(now, limit);
        if (last.isBlocked) throw new Error(`hit ${i} refused`);
      }
      expect(storage.size).toBe(1);
      expect(storage.footprint('10.0.0.1', 'default')).toEqual(footprint);
      // Ten hits a millisecond: only the last window and part of one bucket are counted.
      expect(last.totalHits).toBeGreaterThanOrEqual(10 * TTL);
      expect(last.totalHits).toBeLessThanOrEqual(10 * (TTL + WIDTH));
    });
  });

  describe('sweep', () => {
    beforeEach(() => {
      vi.useFakeTimers();
      storage = new SlidingWindowThrottlerStorage();
    });

    it('evicts keys idle for longer than their window and keeps active and blocked ones', async () => {
      await hit(T0, 5, { key: 'idle' });
      await hit(T0, 1, { key: 'blocked', blockDuration: 60_000 });
      expect((await hit(T0, 1, { key: 'blocked', blockDuration: 60_000 })).isBlocked).toBe(true);
      vi.advanceTimersByTime(SWEEP_INTERVAL_MS - 500);
      await hit(Date.now(), 5, { key: 'active' });

      vi.advanceTimersByTime(500);
      expect(storage.size).toBe(2);
      expect(storage.footprint('idle', 'default')).toBeUndefined();
      expect(storage.footprint('active', 'default')).toBeDefined();

      vi.advanceTimersByTime(SWEEP_INTERVAL_MS);
      expect(storage.footprint('active', 'default')).toBeUndefined();
      expect(storage.footprint('blocked', 'default')).toBeDefined();

      vi.advanceTimersByTime(60_000 - 3 * SWEEP_INTERVAL_MS);
      expect(storage.size).toBe(1);
      vi.advanceTimersByTime(SWEEP_INTERVAL_MS);
      expect(storage.size).toBe(0);
    });

    it('keeps a key whose latest hit is exactly one window old, because it still counts', async () => {
      vi.setSystemTime(T0);
      await hit(Date.now(), 1);
      vi.advanceTimersByTime(SWEEP_INTERVAL_MS - TTL);
      expect((await hit(Date.now(), 1)).isBlocked).toBe(false);
      vi.advanceTimersByTime(TTL); // the sweep runs exactly one ttl after that hit
      // Dropping the key here would have let this hit through.
      expect(storage.size).toBe(1);
      expect((await hit(Date.now(), 1)).isBlocked).toBe(true);
      vi.advanceTimersByTime(SWEEP_INTERVAL_MS);
      expect(storage.size).toBe(0);
    });

    it('starts one timer on first use and onApplicationShutdown clears it and the keys', async () => {
      expect(vi.getTimerCount()).toBe(0);
      await hit(T0, 5, { key: 'a' });
      await hit(T0, 5, { key: 'b' });
      await hit(T0, 5, { key: 'c', name: 'other' });
      expect(vi.getTimerCount()).toBe(1);
      storage.onApplicationShutdown();
      expect(vi.getTimerCount()).toBe(0);
      expect(storage.size).toBe(0);
    });
  });
});
