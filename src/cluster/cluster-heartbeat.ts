import { randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LUA_NOW_MS, RedisConnection } from './redis-connection.js';

/** How often each instance says it is alive, and how long it counts as alive after that. */
export const HEARTBEAT_EVERY_MS = 1_000;
export const HEARTBEAT_TTL_MS = 3_000;

/**
 * Records this instance as alive (`ZADD <prefix>instances <Redis's time> <id>`) and reads how many
 * are, in one script: members older than the TTL are dropped first. Time is Redis's own.
 */
const BEAT = `
${LUA_NOW_MS}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
`;

interface WithBeat {
  gatewayHeartbeat(key: string, id: string, ttlMs: number): Promise<number>;
}

/**
 * Each instance's heartbeat, every second, and the number of live instances of the cluster as
 * last seen (at most ~2 s old): a limiter that has to decide alone while Redis is away allows its
 * share of the limit, the limit divided by this.
 */
@Injectable()
export class ClusterHeartbeat implements OnModuleInit, OnApplicationShutdown {
  readonly instanceId = randomUUID();
  private lastSeen = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly client: (Redis & WithBeat) | undefined;
  private readonly key: string;

  constructor(connection: RedisConnection) {
    this.key = `${connection.prefix}instances`;
    if (!connection.client) return;
    connection.client.defineCommand('gatewayHeartbeat', { numberOfKeys: 1, lua: BEAT });
    this.client = connection.client as Redis & WithBeat;
  }

  /** Live instances of the cluster as last seen, this one included; 1 until Redis has answered. */
  get instances(): number {
    return this.lastSeen;
  }

  onModuleInit(): void {
    if (!this.client) return;
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
    this.timer.unref();
    // The first beat as soon as Redis is there, so the count is right from the start.
    if (this.client.status === 'ready') void this.beat();
    else this.client.once('ready', () => void this.beat());
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async beat(): Promise<void> {
    try {
      this.lastSeen = Math.max(1, await this.client!.gatewayHeartbeat(this.key, this.instanceId, HEARTBEAT_TTL_MS));
    } catch {
      // Redis away: keep the last count (the limiter reports the outage).
    }
  }
}
