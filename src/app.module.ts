import { type DynamicModule, Module } from '@nestjs/common';
import { ProxyModule } from './proxy/proxy.module.js';
import { HealthModule } from './health/health.module.js';
import { HealthCheckModule } from './health-check/health-check.module.js';
import { MetricsModule } from './metrics/metrics.module.js';

/** The composition root: the only module that knows every other one. */
@Module({})
export class AppModule {
  /** @param config the GatewayConfigModule built from flags and environment (see createGateway). */
  static register(config: DynamicModule): DynamicModule {
    return {
      module: AppModule,
      imports: [config, ProxyModule, HealthModule, HealthCheckModule, MetricsModule],
    };
  }
}
