import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DrainingHealthIndicator } from './draining.health.js';
import { LivenessService } from './liveness.service.js';
import { UpstreamsHealthIndicator } from './upstreams.health.js';

/** Paths this controller serves; the edge dispatcher routes them to Nest instead of the proxy. */
export const HEALTH_PATHS = ['/health', '/health/ready'] as const;

@Controller('health')
export class HealthController {
  constructor(
    private readonly liveness: LivenessService,
    private readonly health: HealthCheckService,
    private readonly upstreams: UpstreamsHealthIndicator,
    private readonly draining: DrainingHealthIndicator,
  ) {}

  /** Liveness in the Go proxy's shape: `{"status":"UP","uptime":"2m5s"}`. */
  @Get()
  live() {
    return this.liveness.report();
  }

  /** Readiness in Terminus's shape: 200 while a backend can take traffic, 503 when none can or the gateway is stopping. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.draining.check(), () => this.upstreams.check()]);
  }
}
