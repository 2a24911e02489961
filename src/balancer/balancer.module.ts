import { Module } from '@nestjs/common';
import { BreakerModule } from '../breaker/breaker.module.js';
import { BalancerService } from './balancer.service.js';
import { BalancingStrategy } from './strategies/balancing-strategy.js';
import { RoundRobinStrategy } from './strategies/round-robin.strategy.js';
import { UpstreamPool } from './upstream-pool.js';

@Module({
  imports: [BreakerModule],
  providers: [UpstreamPool, BalancerService, { provide: BalancingStrategy, useClass: RoundRobinStrategy }],
  exports: [UpstreamPool, BalancerService, BreakerModule],
})
export class BalancerModule {}
