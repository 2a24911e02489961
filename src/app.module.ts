import { type DynamicModule, Module } from '@nestjs/common';
import { BalancerModule } from './balancer/balancer.module.js';
import { WorkersModule } from './cluster/workers/workers.module.js';
import { GatewayObservers } from './gateway-observers.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ProxyModule } from './proxy/proxy.module.js';
import { StatusModule } from './status/status.module.js';

/** The composition root: the only module that knows every other one, and where observers are wired. */
@Module({})
export class AppModule {
  /** @param config the GatewayConfigModule built from flags and environment (see createGateway). */
  static register(config: DynamicModule): DynamicModule {
    return {
      module: AppModule,
      imports: [config, WorkersModule, LoggingModule, BalancerModule, MetricsModule, ProxyModule, HealthModule, StatusModule],
      providers: [GatewayObservers],
    };
  }
}
