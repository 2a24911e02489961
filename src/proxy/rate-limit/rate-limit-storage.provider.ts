import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ClusterHeartbeat } from '../../cluster/cluster-heartbeat.js';
import type { RedisConnection } from '../../cluster/redis-connection.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { FailOpenThrottlerStorage, type SharedStoreListener } from './fail-open.storage.js';
import { RedisSlidingWindowStorage } from './redis-sliding-window.storage.js';
import { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';

/**
 * The rate limiter's storage: the embedded sliding window, or with --redis-url the same window in
 * Redis, shared by every gateway with the same --redis-prefix, and the embedded one behind it for
 * when Redis does not answer.
 */
export function rateLimitStorage(redis: RedisConnection, heartbeat: ClusterHeartbeat, metrics: MetricsService): ThrottlerStorage {
  const embedded = new SlidingWindowThrottlerStorage();
  if (!redis.client) return embedded;
  const shared = new RedisSlidingWindowStorage(redis.client, redis.prefix);
  return new FailOpenThrottlerStorage(shared, embedded, () => heartbeat.instances, new RedisOutageReport(metrics, heartbeat));
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
