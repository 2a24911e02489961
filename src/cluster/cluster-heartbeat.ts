import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MetricsService } from '../metrics/metrics.service.js';
import { LUA_NOW_MS, RedisConnection } from './redis-connection.js';

/** How often each instance says it is alive, and how long it counts as alive after that. */
export const HEARTBEAT_EVERY_MS = 1_000;
export const HEARTBEAT_TTL_MS = 3_000;

/** What each instance tells the others about itself with every heartbeat (shown on /status). */
export interface InstanceSummary {
  /** The URL it serves on, as it sees its own listener. */
  readonly address: string;
  readonly hostname: string;
  readonly pid: number;
  readonly version: string;
  /** Epoch ms. */
  readonly startedAt: number;
  /** Proxied requests per second over the last minute. */
  readonly requestsPerSecond: number;
  /** Whether Redis answers its rate limiter now (it may write a heartbeat while the limiter is still falling back). */
  readonly redisUp: boolean;
}

/** A live member of the cluster as last seen. */
export interface ClusterMember extends InstanceSummary {
  readonly id: string;
  /** This instance. */
  readonly self: boolean;
}

/**
 * Records this instance as alive (`ZADD <prefix>{instances} <Redis's time> <id>`) with its summary
 * (a hash beside it), drops members older than the TTL, and returns the live members' summaries,
 * in one script. The hash tag keeps both keys on one slot of a Redis Cluster. Time is Redis's own.
 */
const BEAT = `
${LUA_NOW_MS}
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
  redis.call('HDEL', KEYS[2], unpack(gone))
end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
return redis.call('HGETALL', KEYS[2])
`;

interface WithBeat {
  gatewayHeartbeat(membersKey: string, summariesKey: string, id: string, ttlMs: number, summary: string): Promise<string[]>;
}

/** Until the status module describes this instance: what is known without it. */
const UNDESCRIBED: () => InstanceSummary = () => ({ address: '', hostname: '', pid: process.pid, version: 'unknown', startedAt: 0, requestsPerSecond: 0, redisUp: true });

/**
 * Each instance's heartbeat, every second, carrying a small summary of itself; and the live members
 * of the cluster as last seen (at most ~2 s old): a limiter that has to decide alone while Redis is
 * away allows its share of the limit, the limit divided by their number, and /status lists them.
 */
@Injectable()
export class ClusterHeartbeat implements OnModuleInit, OnApplicationShutdown {
  /** The id /metrics shows (gateway_instance_info), so a member on /status can be found in Prometheus. */
  readonly instanceId: string;
  private lastSeen: readonly ClusterMember[] = [];
  /** Epoch ms of the last heartbeat Redis answered; 0 before the first. */
  private lastBeatAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly client: (Redis & WithBeat) | undefined;
  private readonly membersKey: string;
  private readonly summariesKey: string;
  private describe = UNDESCRIBED;

  constructor(connection: RedisConnection, metrics: MetricsService) {
    this.instanceId = metrics.instance.id;
    this.membersKey = `${connection.prefix}{instances}`;
    this.summariesKey = `${connection.prefix}{instances}:summaries`;
    if (!connection.client) return;
    connection.client.defineCommand('gatewayHeartbeat', { numberOfKeys: 2, lua: BEAT });
    this.client = connection.client as Redis & WithBeat;
  }

  /** Whether this gateway is part of a cluster (--redis-url). */
  get clustered(): boolean {
    return this.client !== undefined;
  }

  /** Live instances of the cluster as last seen, this one included; 1 until Redis has answered. */
  get instances(): number {
    return Math.max(1, this.lastSeen.length);
  }

  /** The live members as last seen (empty until Redis has answered once), and when that was (epoch ms). */
  get members(): { readonly seenAt: number; readonly members: readonly ClusterMember[] } {
    return { seenAt: this.lastBeatAt, members: this.lastSeen };
  }

  /** Sets what this instance says about itself from now on (the status module knows its address, version and rate). */
  describeWith(describe: () => InstanceSummary): void {
    this.describe = describe;
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
    let reply: string[];
    try {
      reply = await this.client!.gatewayHeartbeat(this.membersKey, this.summariesKey, this.instanceId, HEARTBEAT_TTL_MS, JSON.stringify(this.describe()));
    } catch {
      // Redis away: keep the last view (the limiter reports the outage).
      return;
    }
    const members: ClusterMember[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const summary = parseSummary(reply[i + 1]);
      if (summary) members.push({ ...summary, id: reply[i], self: reply[i] === this.instanceId });
    }
    members.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
    this.lastSeen = members;
    this.lastBeatAt = Date.now();
  }
}

function parseSummary(text: string): InstanceSummary | undefined {
  try {
    const summary = JSON.parse(text) as InstanceSummary;
    return typeof summary === 'object' && summary !== null ? summary : undefined;
  } catch {
    return undefined;
  }
}
