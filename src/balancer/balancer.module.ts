import { Module } from '@nestjs/common';
import { BreakerModule } from '../breaker/breaker.module.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { BalancerService } from './balancer.service.js';
import { BackendDiscovery } from './discovery/backend-discovery.js';
import { ActiveHealthChecker } from './health-checks/active-health-checker.js';
import { HealthProbe } from './health-checks/health-probe.js';
import { HttpHealthProbe } from './health-checks/http-health.probe.js';
import { SlowStart } from './slow-start.js';
import { UpstreamPool } from './upstream-pool.js';

/** The upstreams, what decides whether each can take traffic (breaker, health checks, cap), and the choice among them. */
@Module({
  imports: [BreakerModule, ClusterModule],
  providers: [
    BackendDiscovery,
    UpstreamPool,
    BalancerService,
    ActiveHealthChecker,
    SlowStart,
    { provide: HealthProbe, useClass: HttpHealthProbe },
  ],
  exports: [UpstreamPool, BalancerService, ActiveHealthChecker, BreakerModule],
})
export class BalancerModule {}
