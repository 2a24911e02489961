import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DrainingHealthIndicator } from './draining.health.js';
import { LivenessService } from './liveness.service.js';
import { OWN_PATHS } from '../own-paths.js';
import { UpstreamsHealthIndicator } from './upstreams.health.js';


@Controller()
export class HealthController {
  constructor(
    private readonly liveness: LivenessService,
    private readonly health: HealthCheckService,
    private readonly upstreams: UpstreamsHealthIndicator,
    private readonly draining: DrainingHealthIndicator,
  ) {}

  /** Liveness in the Go proxy's shape: `{"status":"UP","uptime":"2m5s"}`. */
  @Get(OWN_PATHS.health)
  live() {
    return this.liveness.report();
  }

  /** Readiness in Terminus's shape: 200 while a backend can take traffic, 503 when none can or the gateway is stopping. */
  @Get(OWN_PATHS.ready)
  @HealthCheck()
  ready() {
    return this.health.check([() => this.draining.check(), () => this.upstreams.check()]);
  }
}
