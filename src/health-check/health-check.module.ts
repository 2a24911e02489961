import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HealthCheckService } from './health-check.service.js';
import { HealthProbe } from './health-probe.js';
import { HttpHealthProbe } from './http-health.probe.js';

@Module({
  imports: [BalancerModule, MetricsModule],
  providers: [HealthCheckService, { provide: HealthProbe, useClass: HttpHealthProbe }],
})
export class HealthCheckModule {
  /** Metrics is a leaf that imports nothing, so the health checks' news is carried to it from here. */
  constructor(checks: HealthCheckService, metrics: MetricsService) {
    checks.onHealthChange((backend, healthy) => {
      metrics.backend(backend).health = healthy ? 'healthy' : 'unhealthy';
    });
  }
}
