import type { Redis } from 'ioredis';
import type { SharedStore, StoredValue } from './shared-store.js';

/** A value and its remaining time to live, in one round trip; nil when the key is gone. */
const READ_WITH_TTL = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
return { value, redis.call('PTTL', KEYS[1]) }
`;

/** Deletes a key only if it still holds the caller's value: an instance never removes another's lease. */
const REMOVE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface WithScripts {
  gatewayReadWithTtl(key: string): Promise<[string, number] | null>;
  gatewayRemoveIf(key: string, value: string): Promise<number>;
}

/**
 * The shared store on Redis: plain keys with PX (one key per fact, so Redis Cluster is fine) and
 * pub/sub on a second connection, which ioredis re-subscribes after every reconnection. Every call
 * carries the connection's deadline (--redis-timeout) and fails at once while Redis is away.
 */
export class RedisSharedStore implements SharedStore {
  private readonly client: Redis & WithScripts;
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, ((message: string) => void)[]>();

  constructor(
    client: Redis,
    private readonly prefix: string,
  ) {
    client.defineCommand('gatewayReadWithTtl', { numberOfKeys: 1, lua: READ_WITH_TTL });
    client.defineCommand('gatewayRemoveIf', { numberOfKeys: 1, lua: REMOVE_IF });
    this.client = client as Redis & WithScripts;
  }

  get available(): boolean {
    return this.client.status === 'ready';
  }

  async put(key: string, value: string, ttlMs: number, onlyIfAbsent = false): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const reply = onlyIfAbsent ? await this.client.set(this.prefix + key, value, 'PX', ttl, 'NX') : await this.client.set(this.prefix + key, value, 'PX', ttl);
    return reply === 'OK';
  }

  async read(key: string): Promise<StoredValue | undefined> {
    const reply = await this.client.gatewayReadWithTtl(this.prefix + key);
    return reply === null ? undefined : { value: reply[0], ttlMs: Number(reply[1]) };
  }

  async removeIf(key: string, value: string): Promise<void> {
    await this.client.gatewayRemoveIf(this.prefix + key, value);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    const name = this.prefix + channel;
    const listeners = this.listeners.get(name);
    if (listeners) {
      listeners.push(listener);
      return;
    }
    this.listeners.set(name, [listener]);
    // Subscriptions are queued until the connection is up, and renewed by ioredis after each reconnection.
    const subscriber = (this.subscriber ??= this.openSubscriber());
    await subscriber.subscribe(name).catch(() => undefined);
  }

  /** Closes the subscriber connection (the command connection belongs to RedisConnection); Nest calls it at shutdown. */
  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  private openSubscriber(): Redis {
    const subscriber = this.client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
    return subscriber;
  }

}
