import { createRequire } from 'node:module';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

/** Lua that sets `now` to Redis's own time in milliseconds: every script decides on Redis's clock, never an instance's. */
export const LUA_NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/** Reconnection waits: short, so a restarted Redis is used again within about a second. */
const RECONNECT_MAX_MS = 500;
/** How long the start waits for Redis before serving without it (it may be down: that must not stop the gateway). */
export const CONNECT_WAIT_MS = 1_000;

/**
 * The one Redis client of the process, when --redis-url is set (ioredis: Lua by SHA through
 * defineCommand, a deadline per command, no offline queue, reconnection forever). Every call
 * either answers within --redis-timeout or fails at once; what a failure means is each caller's
 * business (the rate limiter decides locally). A Redis down at start does not stop the gateway.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  /** Undefined without --redis-url. */
  readonly client: Redis | undefined;
  readonly prefix: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.prefix = config.redisPrefix;
    if (config.redisUrl === undefined) return;
    // Loaded only with --redis-url: a gateway without Redis carries none of the client.
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.client = new RedisClient(config.redisUrl, {
      // A command sent while disconnected fails now instead of waiting for the connection.
      enableOfflineQueue: false,
      commandTimeout: config.redisTimeoutMs,
      connectTimeout: Math.max(config.redisTimeoutMs, 1_000),
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_MS),
    });
    // Failures are reported by the callers (once per outage); ioredis's own error events would repeat every reconnection.
    this.client.on('error', () => undefined);
    this.logger.debug(`connecting to ${redactedUrl(config.redisUrl)} (prefix ${JSON.stringify(this.prefix)})`);
  }

  /**
   * Waits (at most CONNECT_WAIT_MS) for the connection before the gateway starts serving, so its
   * first requests count in Redis like every other instance's instead of being decided alone.
   */
  async onModuleInit(): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_WAIT_MS);
      client.once('ready', done);
    });
  }

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.href;
}
