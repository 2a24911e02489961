import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { recentStatsProvider } from './recent-stats.provider.js';
import { StatusController } from './status.controller.js';
import { StatusService } from './status.service.js';

/** GET /status: a self-refreshing page of each backend's state, rates and latency, and of the cluster's live instances. */
@Module({
  imports: [MetricsModule, BalancerModule, RoutingModule, ClusterModule],
  controllers: [StatusController],
  providers: [recentStatsProvider, StatusService],
})
export class StatusModule {}
