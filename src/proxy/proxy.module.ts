import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { BalancerModule } from '../balancer/balancer.module.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { LifecycleModule } from '../lifecycle/lifecycle.module.js';
import { LoggingModule } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { AccessLog } from './access-log.js';
import { EdgeDispatcher } from './edge-dispatcher.js';
import { ProxyMiddleware } from './proxy.middleware.js';
import { gatewayThrottlerOptions, RateLimiter } from './rate-limiter.js';
import { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';
import { upstreamTransportProvider } from './transport/transport.provider.js';

@Module({
  imports: [
    BalancerModule,
    MetricsModule,
    LifecycleModule,
    LoggingModule,
    ThrottlerModule.forRootAsync({
      inject: [GATEWAY_CONFIG],
      // Our storage: O(1) per request and fixed memory per client (the default is O(hits) per request).
      useFactory: (config: GatewayConfig) => gatewayThrottlerOptions(config, new SlidingWindowThrottlerStorage()),
    }),
  ],
  providers: [AccessLog, RateLimiter, upstreamTransportProvider, ProxyMiddleware, EdgeDispatcher],
})
export class ProxyModule {}
