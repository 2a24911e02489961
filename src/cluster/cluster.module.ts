import { Module } from '@nestjs/common';
import { ClusterHeartbeat } from './cluster-heartbeat.js';
import { RedisConnection } from './redis-connection.js';

/** State shared with the other gateways of the cluster through Redis (--redis-url); inert without it. */
@Module({ providers: [RedisConnection, ClusterHeartbeat], exports: [RedisConnection, ClusterHeartbeat] })
export class ClusterModule {}
