import { Module } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ClusterHeartbeat } from './cluster-heartbeat.js';
import { RedisConnection } from './redis-connection.js';
import { RedisSharedStore } from './redis-shared-store.js';
import { SHARED_STORE, type SharedStore } from './shared-store.js';
import { usesPrimarySharedStore } from './workers/primary-channel.js';
import { primarySharedStoreOf } from './workers/primary-shared-store.js';

/**
 * The shared store: Redis with --redis-url (instances, and each worker of --workers, are members);
 * the primary process for the workers of --workers without Redis; none when the gateway is alone
 * (its state stays embedded).
 */
function sharedStore(config: GatewayConfig, redis: RedisConnection): SharedStore | null {
  if (redis.client) return new RedisSharedStore(redis.client, redis.prefix);
  if (usesPrimarySharedStore(config)) return primarySharedStoreOf(config);
  return null;
}

/** State shared with the rest of the cluster: through Redis (--redis-url) or the workers' primary; inert without either. */
@Module({
  imports: [MetricsModule],
  providers: [RedisConnection, ClusterHeartbeat, { provide: SHARED_STORE, useFactory: sharedStore, inject: [GATEWAY_CONFIG, RedisConnection] }],
  exports: [RedisConnection, ClusterHeartbeat, SHARED_STORE],
})
export class ClusterModule {}
