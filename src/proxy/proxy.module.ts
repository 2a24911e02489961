import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { RoutingModule } from '../routing/routing.module.js';
import { BalancerModule } from '../balancer/balancer.module.js';
import { ClusterHeartbeat } from '../cluster/cluster-heartbeat.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { RedisConnection } from '../cluster/redis-connection.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { LifecycleModule } from '../lifecycle/lifecycle.module.js';
import { LoggingModule } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AdminListener } from './edge/admin-listener.js';
import { ApiKeyGate } from './auth/api-key-gate.js';
import { ApiKeys } from './auth/api-keys.js';
import { ClientCertificates } from './auth/client-certificates.js';
import { CertificateReloader } from './edge/certificate-reloader.js';
import { ClientAddressResolver } from './edge/client-address.js';
import { BalanceHintReader } from './balance-hints.js';
import { EdgeDispatcher } from './edge/edge-dispatcher.js';
import { OwnEndpoints } from './edge/own-endpoints.js';
import { SecurityHeaders } from './edge/security-headers.js';
import { ProxyMiddleware } from './proxy.middleware.js';
import { gatewayThrottlerOptions, RateLimiter } from './rate-limit/rate-limiter.js';
import { rateLimitStorage } from './rate-limit/rate-limit-storage.provider.js';
import { AccessLog } from './record/access-log.js';
import { RequestRecorder } from './record/request-recorder.js';
import { ResponseWriter } from './response-writer.js';
import { UpstreamTries } from './upstream-tries.js';
import { upstreamTransportProvider } from './transport/transport.provider.js';
import { WebSocketTunnels } from './transport/websocket-tunnels.js';

/** The request path: the edge (listeners, dispatcher), the rate limiter, the proxy middleware and its transport, the recording. */
@Module({
  imports: [
    BalancerModule,
    RoutingModule,
    MetricsModule,
    LifecycleModule,
    LoggingModule,
    ThrottlerModule.forRootAsync({
      imports: [ClusterModule, MetricsModule],
      inject: [GATEWAY_CONFIG, RedisConnection, ClusterHeartbeat, MetricsService],
      // Our storage: O(1) per request and fixed memory per client (the default is O(hits) per request), shared through Redis with --redis-url, or through the primary with --workers.
      useFactory: (config: GatewayConfig, redis: RedisConnection, heartbeat: ClusterHeartbeat, metrics: MetricsService) =>
        gatewayThrottlerOptions(config, rateLimitStorage({ config, redis, heartbeat, metrics })),
    }),
  ],
  providers: [
    SecurityHeaders,
    ClientCertificates,
    ApiKeys,
    ApiKeyGate,
    ClientAddressResolver,
    BalanceHintReader,
    AccessLog,
    RequestRecorder,
    UpstreamTries,
    ResponseWriter,
    RateLimiter,
    upstreamTransportProvider,
    WebSocketTunnels,
    ProxyMiddleware,
    OwnEndpoints,
    EdgeDispatcher,
    AdminListener,
    CertificateReloader,
  ],
  exports: [AdminListener],
})
export class ProxyModule {}
