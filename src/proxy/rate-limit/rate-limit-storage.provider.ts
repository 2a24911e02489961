import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ClusterHeartbeat } from '../../cluster/cluster-heartbeat.js';
import type { RedisConnection } from '../../cluster/redis-connection.js';
import { isWorkerOfPrimary, primaryChannelOf } from '../../cluster/workers/primary-channel.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { FailOpenThrottlerStorage, type SharedStoreListener } from './fail-open.storage.js';
import { PrimarySlidingWindowStorage } from './primary-sliding-window.storage.js';
import { RedisSlidingWindowStorage } from './redis-sliding-window.storage.js';
import { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';

/** What the rate-limit storage is built from. */
export interface RateLimitStorageParts {
  readonly config: GatewayConfig;
  readonly redis: RedisConnection;
  readonly heartbeat: ClusterHeartbeat;
  readonly metrics: MetricsService;
}

type StorageKind = 'embedded' | 'redis' | 'primary';

/**
 * Each kind of storage, with the embedded sliding window as the local one: alone (one process),
 * or behind a shared window that must answer within --redis-timeout, and fails open to it.
 */
const STORAGES: Record<StorageKind, (parts: RateLimitStorageParts, embedded: SlidingWindowThrottlerStorage) => ThrottlerStorage> = {
  embedded: (_parts, embedded) => embedded,
  // Shared by every gateway with the same --redis-prefix (the workers of --workers included: each is an instance).
  redis: ({ redis, heartbeat, metrics }, embedded) =>
    new FailOpenThrottlerStorage(new RedisSlidingWindowStorage(redis.client!, redis.prefix), embedded, () => heartbeat.instances, new RedisOutageReport(metrics, heartbeat)),
  // --workers without Redis: the primary's window, shared by every worker; each worker alone gets 1/workers of the limit.
  primary: ({ config }, embedded) =>
    new FailOpenThrottlerStorage(new PrimarySlidingWindowStorage(primaryChannelOf(config)), embedded, () => config.workers, new PrimaryOutageReport(config.workers)),
};

function kindOf({ config, redis }: RateLimitStorageParts): StorageKind {
  if (redis.client) return 'redis';
  return isWorkerOfPrimary(config) ? 'primary' : 'embedded';
}

/**
 * The rate limiter's storage: the embedded sliding window; with --redis-url the same window in
 * Redis, shared by every gateway with the same --redis-prefix; in a worker of --workers without
 * Redis, the primary's window over IPC. A shared one has the embedded one behind it for when it
 * does not answer.
 */
export function rateLimitStorage(parts: RateLimitStorageParts): ThrottlerStorage {
  return STORAGES[kindOf(parts)](parts, new SlidingWindowThrottlerStorage());
}

/** One warn line when the limiter loses Redis and one when it has it back; the gauge and the counter. */
class RedisOutageReport implements SharedStoreListener {
  private readonly logger = new Logger('Redis');
  private readonly state: { up: boolean; fallbacks: number };

  constructor(
    metrics: MetricsService,
    private readonly heartbeat: ClusterHeartbeat,
  ) {
    this.state = { up: true, fallbacks: 0 };
    metrics.redis = this.state;
  }

  sharedStoreLost(error: Error): void {
    this.state.up = false;
    this.state.fallbacks++;
    const instances = this.heartbeat.instances;
    this.logger.warn(`Redis does not answer (${error.message}): rate limits are decided by each instance alone, at 1/${instances} of the limit each (${instances} instances last seen)`);
  }

  sharedStoreBack(): void {
    this.state.up = true;
    this.logger.warn('Redis answers again: rate limits are shared again');
  }
}

/** One warn line when a worker stops hearing from the primary in time, one when it hears again. */
class PrimaryOutageReport implements SharedStoreListener {
  private readonly logger = new Logger('Workers');

  constructor(private readonly workers: number) {}

  sharedStoreLost(error: Error): void {
    this.logger.warn(`${error.message}: worker ${process.pid} decides rate limits alone, at 1/${this.workers} of the limit, for a second at a time`);
  }

  sharedStoreBack(): void {
    this.logger.warn(`the primary answers again: worker ${process.pid} shares rate limits again`);
  }
}
