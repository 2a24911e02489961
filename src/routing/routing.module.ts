import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { Router } from './router.js';
import { RunningConfig } from './running-config.js';

/** Routes and services: which service a request goes to, and the running configuration with its live reload. */
@Module({
  imports: [BalancerModule, MetricsModule],
  providers: [Router, RunningConfig],
  exports: [Router, RunningConfig],
})
export class RoutingModule {}
