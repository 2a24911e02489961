import { type DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { ProxyModule } from './proxy/proxy.module.js';
import { HealthModule } from './health/health.module.js';
import { HealthCheckModule } from './health-check/health-check.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { StatusModule } from './status/status.module.js';

/** The composition root: the only module that knows every other one. */
@Module({})
export class AppModule {
  /** @param config the GatewayConfigModule built from flags and environment (see createGateway). */
  static register(config: DynamicModule): DynamicModule {
    return {
      module: AppModule,
      imports: [config, LoggingModule, ProxyModule, HealthModule, HealthCheckModule, MetricsModule, AdminModule, StatusModule],
    };
  }
}
