import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { CircuitBreakerService } from './circuit-breaker.service.js';
import { ClusterBreakerSync } from './cluster-breaker-sync.js';

@Module({
  imports: [ClusterModule],
  providers: [CircuitBreakerService, ClusterBreakerSync],
  exports: [CircuitBreakerService],
})
export class BreakerModule {}
