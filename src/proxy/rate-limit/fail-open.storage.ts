import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from './rate-limiter.js';
import type { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';


/** After a failed call, the shared store is not asked again for this long: it answers locally meanwhile. */
export const SHARED_STORE_RETRY_MS = 1_000;

/** Hears when the limiter stops and starts counting through the shared store (for logs and metrics). */
export interface SharedStoreListener {
  sharedStoreLost(error: Error): void;
  sharedStoreBack(): void;
}

/**
 * A shared store (Redis) in front, the embedded sliding window behind it. A failing shared store
 * never fails a request, nor holds it longer than the store's own deadline: the request is
 * decided here, against the limit divided by the number of instances last seen (so the cluster as
 * a whole still allows about the limit), and the shared store is left alone for a second before
 * it is tried again (a breaker of its own: a frozen Redis costs one deadline a second, not one per
 * request). A call that failed is counted only here, never in the shared store.
 */
export class FailOpenThrottlerStorage implements ThrottlerStorage {
  private failedAt: number | undefined;

  constructor(
    private readonly shared: ThrottlerStorage,
    private readonly local: SlidingWindowThrottlerStorage,
    private readonly instancesSeen: () => number,
    private readonly listener: SharedStoreListener,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (this.failedAt !== undefined && this.nowMs() - this.failedAt < SHARED_STORE_RETRY_MS) {
      return this.decideLocally(key, ttl, limit, blockDuration, throttlerName);
    }
    return this.shared.increment(key, ttl, limit, blockDuration, throttlerName).then(
      (record) => {
        if (this.failedAt !== undefined) {
          this.failedAt = undefined;
          this.listener.sharedStoreBack();
        }
        return record;
      },
      (error: unknown) => {
        if (this.failedAt === undefined) this.listener.sharedStoreLost(error instanceof Error ? error : new Error(String(error)));
        this.failedAt = this.nowMs();
        return this.decideLocally(key, ttl, limit, blockDuration, throttlerName);
      },
    );
  }

  private decideLocally(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const share = Math.max(1, Math.floor(limit / Math.max(1, this.instancesSeen())));
    return this.local.increment(key, ttl, share, blockDuration, throttlerName);
  }
}
