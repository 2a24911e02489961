import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BalancerModule } from '../balancer/balancer.module.js';
import { LifecycleModule } from '../lifecycle/lifecycle.module.js';
import { DrainingHealthIndicator } from './draining.health.js';
import { HealthController } from './health.controller.js';
import { LivenessService } from './liveness.service.js';
import { UpstreamsHealthIndicator } from './upstreams.health.js';

@Module({
  imports: [TerminusModule, BalancerModule, LifecycleModule],
  controllers: [HealthController],
  providers: [LivenessService, UpstreamsHealthIndicator, DrainingHealthIndicator],
})
export class HealthModule {}
