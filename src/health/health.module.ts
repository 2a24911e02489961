import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BalancerModule } from '../balancer/balancer.module.js';
import { HealthController } from './health.controller.js';
import { LivenessService } from './liveness.service.js';
import { UpstreamsHealthIndicator } from './upstreams.health.js';

@Module({
  imports: [TerminusModule, BalancerModule],
  controllers: [HealthController],
  providers: [LivenessService, UpstreamsHealthIndicator],
})
export class HealthModule {}
