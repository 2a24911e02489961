import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ClusterHeartbeat } from './cluster-heartbeat.js';
import { RedisConnection } from './redis-connection.js';
import { RedisSharedStore } from './redis-shared-store.js';
import { SHARED_STORE, type SharedStore } from './shared-store.js';

/** The shared store: Redis with --redis-url; none when the gateway is alone (its state stays embedded). */
function sharedStore(redis: RedisConnection): SharedStore | null {
  return redis.client ? new RedisSharedStore(redis.client, redis.prefix) : null;
}

/** State shared with the other gateways of the cluster through Redis (--redis-url); inert without it. */
@Module({
  imports: [MetricsModule],
  providers: [RedisConnection, ClusterHeartbeat, { provide: SHARED_STORE, useFactory: sharedStore, inject: [RedisConnection] }],
  exports: [RedisConnection, ClusterHeartbeat, SHARED_STORE],
})
export class ClusterModule {}
