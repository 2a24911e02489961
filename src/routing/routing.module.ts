import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { LoggingModule } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { AdminController } from './admin/admin.controller.js';
import { AdminTokenGuard } from './admin/admin-token.guard.js';
import { ServiceAdmin } from './admin/service-admin.js';
import { ClusterConfigSync } from './cluster-config-sync.js';
import { Router } from './router.js';
import { RunningConfig } from './running-config.js';

/**
 * Routes and services: which service a request goes to, the running configuration with its live
 * reload, its sharing across the cluster, and the admin API that changes it (on --admin-listen,
 * behind --admin-token).
 */
@Module({
  imports: [BalancerModule, ClusterModule, MetricsModule, LoggingModule],
  controllers: [AdminController],
  providers: [Router, RunningConfig, ClusterConfigSync, ServiceAdmin, AdminTokenGuard],
  exports: [Router, RunningConfig],
})
export class RoutingModule {}
