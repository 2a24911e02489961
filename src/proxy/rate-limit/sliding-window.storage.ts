import { AsyncResource } from 'node:async_hooks';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ImmediateThrottlerStorage, ThrottlerStorageRecord } from './rate-limiter.js';


/** Sub-buckets per window: the counting resolution is ttl / 20 (50 ms for the gateway's 1 s window). */
export const BUCKETS_PER_WINDOW = 20;

/** How often keys whose window has emptied are dropped. */
export const SWEEP_INTERVAL_MS = 10_000;

/** The ring holds one bucket more than the window, so the bucket the window's start falls in is still there. */
const RING_SIZE = BUCKETS_PER_WINDOW + 1;

/** Whole seconds for the record; a wait that is due but not over yet still says 1. */
export function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * One client's hits for one throttler, as counters per sub-bucket plus the time of each bucket's
 * latest hit: memory is fixed whatever the rate, and a call touches at most the buckets that time
 * has moved past.
 *
 * A bucket counts until its latest hit is more than a ttl old, then leaves as a whole. Every
 * accepted hit in [now - ttl, now] therefore sits in a bucket that still counts, so no interval of
 * length ttl, boundaries included, ever holds more than `limit` accepted hits. A bucket can only be counted too long by the
 * spread of its own hits (at most ttl / N), and a burst leaves exactly one ttl after it came.
 *
 * Buckets have absolute indexes (floor(time / width)) so their boundaries do not depend on when
 * the key was first seen; the ring slot of bucket i is i mod RING_SIZE.
 */
class KeyWindow {
  private readonly ring = new Uint32Array(RING_SIZE);
  /** Time (ms) of each bucket's latest hit; later buckets always hold later hits. */
  private readonly lastHit = new Float64Array(RING_SIZE);
  /** Absolute index of the newest bucket; the ring holds newest - N .. newest. */
  private newest: number;
  /** No bucket before this one holds counted hits. */
  private oldest: number;
  private total = 0;
  /** Time (ms) before which every call is refused; 0 when not blocked. */
  blockedUntil = 0;

  constructor(
    readonly ttl: number,
    now: number,
  ) {
    this.newest = this.bucketOf(now);
    this.oldest = this.newest;
  }

  /** Accepted hits still inside the window. */
  get count(): number {
    return this.total;
  }

  /** The two fixed arrays are the only per-key collections, so they are the key's whole variable footprint. */
  get footprint(): { buckets: number; bytes: number } {
    return { buckets: this.ring.length, bytes: this.ring.byteLength + this.lastHit.byteLength };
  }

  /** Moves the ring to `now` and drops the buckets whose latest hit has left the window. */
  advance(now: number): void {
    const current = this.bucketOf(now);
    // Date.now() can step back (NTP): keep counting into the newest bucket rather than rewinding.
    if (current > this.newest) {
      if (current - this.newest >= RING_SIZE) {
        // Idle for longer than the ring: everything has left, so reset in one step.
        this.ring.fill(0);
        this.total = 0;
      } else {
        // Slots about to hold new buckets held ones older than the ring reaches.
        for (let i = this.newest + 1; i <= current; i++) {
          const slot = this.slot(i);
          this.total -= this.ring[slot];
          this.ring[slot] = 0;
        }
      }
      this.newest = current;
      this.oldest = Math.max(this.oldest, current - BUCKETS_PER_WINDOW);
    }
    // Buckets leave oldest first, because later buckets hold later hits.
    while (this.total > 0) {
      const slot = this.slot(this.oldest);
      if (this.ring[slot] > 0) {
        // Still counted at exactly one ttl, so even a closed interval [t, t + ttl] holds `limit` at most.
        if (this.lastHit[slot] + this.ttl >= now) break;
        this.total -= this.ring[slot];
        this.ring[slot] = 0;
      }
      this.oldest++;
    }
    if (this.total === 0) this.oldest = this.newest;
  }

  record(now: number): void {
    const slot = this.slot(this.newest);
    this.ring[slot]++;
    if (now > this.lastHit[slot] || this.ring[slot] === 1) this.lastHit[slot] = now;
    this.total++;
  }

  /**
   * Milliseconds until the oldest counted bucket leaves the window, i.e. until the count next drops.
   * (It leaves one millisecond after this; a client retrying on the whole second is later anyway.)
   */
  msUntilOldestLeaves(now: number): number {
    for (let i = this.oldest; i <= this.newest; i++) {
      const slot = this.slot(i);
      if (this.ring[slot] > 0) return this.lastHit[slot] + this.ttl - now;
    }
    return 0;
  }

  /**
   * Milliseconds until a hit would be accepted: walk from the oldest bucket until enough have
   * left for the count to drop below `limit`. O(N), so only refusals pay for it.
   */
  msUntilBelow(limit: number, now: number): number {
    // With no allowance at all nothing ever gets through; one window is the honest retry hint.
    if (limit <= 0) return this.ttl;
    let remaining = this.total;
    for (let i = this.oldest; i <= this.newest; i++) {
      const slot = this.slot(i);
      if (this.ring[slot] === 0) continue;
      remaining -= this.ring[slot];
      if (remaining < limit) return this.lastHit[slot] + this.ttl - now;
    }
    return this.ttl;
  }

  /** Whether dropping this key changes no answer: no hit still counts and no block is running. */
  isIdle(now: number): boolean {
    this.advance(now);
    return this.total === 0 && this.blockedUntil <= now;
  }

  // Integer products before dividing, so boundaries are exact for integer ttl and millisecond times.
  private bucketOf(time: number): number {
    return Math.floor((time * BUCKETS_PER_WINDOW) / this.ttl);
  }

  private slot(bucket: number): number {
    return ((bucket % RING_SIZE) + RING_SIZE) % RING_SIZE;
  }
}

/**
 * A drop-in ThrottlerStorage that does O(1) work per call and keeps a fixed amount of memory per
 * client. @nestjs/throttler's in-memory storage keeps a timestamp per hit, so each call costs
 * O(hits) and one busy key can overflow the stack; the gateway calls this on every request.
 *
 * It never lets more than `limit` hits through in any interval [t, t + ttl], boundaries included
 * and wherever it falls (not only on fixed-window boundaries): a hit is accepted only if the buckets still counting hold
 * fewer than `limit`, and a bucket counts until its latest hit is a full ttl old. The price is that a
 * bucket whose hits are spread over its width is forgotten up to one bucket width (ttl / N) late,
 * so a client sending steadily above its limit gets at least N/(N+1) ≈ 95% of the limit per window
 * on average; a burst leaves exactly one ttl after it came.
 *
 * Refused hits are not recorded, so a client sending more than its limit still gets its limit
 * through rather than being locked out for as long as it keeps sending.
 */
@Injectable()
export class SlidingWindowThrottlerStorage implements ImmediateThrottlerStorage, OnApplicationShutdown {
  /** Per throttler name, per key: two lookups instead of building a combined key string per call. */
  private readonly windows = new Map<string, Map<string, KeyWindow>>();
  private sweepTimer: NodeJS.Timeout | undefined;

  // Bound here, not at the first request: the interval would otherwise hold on to that request's
  // async context (and whatever AsyncLocalStorage keeps in it) for the life of the app.
  private readonly startSweep = AsyncResource.bind(() => {
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    // Bookkeeping must not keep the process alive.
    this.sweepTimer.unref();
  });

  /** Number of tracked (throttler, key) pairs. */
  get size(): number {
    let size = 0;
    for (const keys of this.windows.values()) size += keys.size;
    return size;
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    // Async so that a bad ttl rejects like any storage failure instead of throwing synchronously.
    return new Promise((resolve) => {
      const window = this.windowFor(key, ttl, throttlerName);
      resolve(this.hit(window, limit, blockDuration, Date.now()) ?? this.accepted(window, Date.now()));
    });
  }

  /** The gateway's path: the same decision, at once; an accepted hit needs no record. */
  hitNow(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ThrottlerStorageRecord | undefined {
    return this.hit(this.windowFor(key, ttl, throttlerName), limit, blockDuration, Date.now());
  }

  /** Diagnostics and the memory test: the size of one key's counter ring, or undefined when the key is not tracked. */
  footprint(key: string, throttlerName: string): { buckets: number; bytes: number } | undefined {
    return this.windows.get(throttlerName)?.get(key)?.footprint;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.windows.clear();
  }

  private windowFor(key: string, ttl: number, throttlerName: string): KeyWindow {
    if (!(ttl > 0) || !Number.isFinite(ttl)) throw new RangeError(`throttler ttl must be a positive number of milliseconds, got ${ttl}`);
    if (!this.sweepTimer) this.startSweep();
    const now = Date.now();
    let keys = this.windows.get(throttlerName);
    if (!keys) {
      keys = new Map();
      this.windows.set(throttlerName, keys);
    }
    let window = keys.get(key);
    if (!window || window.ttl !== ttl) {
      // Buckets of another width cannot be re-binned, so the count starts afresh; a running block is
      // a penalty rather than part of the count, so it carries over.
      const fresh = new KeyWindow(ttl, now);
      if (window) fresh.blockedUntil = window.blockedUntil;
      window = fresh;
      keys.set(key, window);
    }
    return window;
  }

  /** Counts a hit if it is accepted (and returns nothing); otherwise returns the refusal. */
  private hit(window: KeyWindow, limit: number, blockDuration: number, now: number): ThrottlerStorageRecord | undefined {
    window.advance(now);
    if (now < window.blockedUntil) return this.refusal(window, limit, window.blockedUntil - now, now);
    if (window.count < limit) {
      window.record(now);
      return undefined;
    }
    const untilBelow = window.msUntilBelow(limit, now);
    if (blockDuration > 0) {
      // A block shorter than the window's own wait would only advertise a retry that is refused again.
      window.blockedUntil = now + Math.max(blockDuration, untilBelow);
      return this.refusal(window, limit, window.blockedUntil - now, now);
    }
    return this.refusal(window, limit, untilBelow, now);
  }

  private accepted(window: KeyWindow, now: number): ThrottlerStorageRecord {
    return { totalHits: window.count, timeToExpire: seconds(window.msUntilOldestLeaves(now)), isBlocked: false, timeToBlockExpire: 0 };
  }

  private refusal(window: KeyWindow, limit: number, msUntilAccepted: number, now: number): ThrottlerStorageRecord {
    return {
      totalHits: limit + 1,
      timeToExpire: window.count > 0 ? seconds(window.msUntilOldestLeaves(now)) : 0,
      isBlocked: true,
      timeToBlockExpire: seconds(msUntilAccepted),
    };
  }

  /** One pass for all keys instead of a timer per hit or per key. */
  private sweep(): void {
    const now = Date.now();
    for (const [name, keys] of this.windows) {
      for (const [key, window] of keys) if (window.isIdle(now)) keys.delete(key);
      if (keys.size === 0) this.windows.delete(name);
    }
  }
}
