import type { GatewayConfig } from '../../config/gateway-config.js';
import type { SharedStore, StoredValue } from '../shared-store.js';
import { type PrimaryChannel, primaryChannelOf } from './primary-channel.js';

/**
 * A worker's SharedStore when --workers runs without Redis: every call goes to the primary over
 * IPC, which keeps one in-memory store for all workers (SharedStoreHost). Each call answers within
 * `deadlineMs` (--redis-timeout) or rejects, as the Redis store's do, so callers act locally then.
 * `publish` reaches every worker's subscribers, this one's included.
 */
export class PrimarySharedStore implements SharedStore {
  private answered = true;

  constructor(
    private readonly channel: PrimaryChannel,
    private readonly deadlineMs: number,
  ) {}

  get available(): boolean {
    return this.answered;
  }

  put(key: string, value: string, ttlMs: number, onlyIfAbsent = false): Promise<boolean> {
    return this.track(this.channel.call<boolean>({ op: 'put', key, value, ttlMs, onlyIfAbsent }, this.deadlineMs));
  }

  async read(key: string): Promise<StoredValue | undefined> {
    // JSON carries "no value" as null.
    return (await this.track(this.channel.call<StoredValue | null>({ op: 'read', key }, this.deadlineMs))) ?? undefined;
  }

  async removeIf(key: string, value: string): Promise<void> {
    await this.track(this.channel.call<null>({ op: 'removeIf', key, value }, this.deadlineMs));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.track(this.channel.call<null>({ op: 'publish', channel, message }, this.deadlineMs));
  }

  /** The primary relays every publish to every worker: nothing to confirm. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    this.channel.subscribe(channel, listener);
  }

  private track<T>(call: Promise<T>): Promise<T> {
    return call.then(
      (value) => {
        this.answered = true;
        return value;
      },
      (error: unknown) => {
        this.answered = false;
        throw error;
      },
    );
  }
}

/** The worker's PrimarySharedStore, for the SharedStore provider factory (when usesPrimarySharedStore(config)). */
export function primarySharedStoreOf(config: GatewayConfig): PrimarySharedStore {
  return new PrimarySharedStore(primaryChannelOf(config), config.redisTimeoutMs);
}
