import type { ThrottlerStorage } from '@nestjs/throttler';
import { HIT_FIELDS } from '../../cluster/workers/ipc-messages.js';
import type { PrimaryChannel } from '../../cluster/workers/primary-channel.js';
import type { ThrottlerStorageRecord } from './rate-limiter.js';
import type { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';

/**
 * A worker's rate-limit storage with --workers and no Redis: every hit is counted by the primary,
 * in one embedded sliding window for all workers (answerHits below), so a client whose connections
 * land on different workers still gets exactly its limit. Hits of one turn of the event loop go in
 * one IPC message. Unanswered within --redis-timeout, the call rejects, and FailOpenThrottlerStorage
 * (around this) decides alone.
 */
export class PrimarySlidingWindowStorage implements ThrottlerStorage {
  constructor(private readonly channel: PrimaryChannel) {}

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    return this.channel.hit(key, ttl, limit, blockDuration, throttlerName);
  }
}

/**
 * The primary's side: one batch of the workers' hits (HIT_FIELDS each) decided by the embedded
 * window, the answers appended to `answers` (id, totalHits, timeToExpire, timeToBlockExpire; an
 * accepted hit is all zeros but its id). A hit the window refuses to count (a bad ttl) gets no
 * answer: its worker decides it alone at its deadline.
 */
export function answerHits(window: SlidingWindowThrottlerStorage, hits: readonly (string | number)[], answers: number[]): void {
  for (let i = 0; i < hits.length; i += HIT_FIELDS) {
    const id = hits[i] as number;
    let refused: ThrottlerStorageRecord | undefined;
    try {
      refused = window.hitNow(hits[i + 1] as string, hits[i + 2] as number, hits[i + 3] as number, hits[i + 4] as number, hits[i + 5] as string);
    } catch {
      continue;
    }
    if (refused === undefined) answers.push(id, 0, 0, 0);
    else answers.push(id, refused.totalHits, refused.timeToExpire, refused.timeToBlockExpire);
  }
}
