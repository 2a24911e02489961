import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { GracefulShutdownService } from '../lifecycle/graceful-shutdown.service.js';

/**
 * Readiness goes down the moment a stop begins, so a load balancer or Kubernetes stops sending
 * traffic during --drain-delay while the gateway still serves what arrives. It adds nothing to the
 * report otherwise: readiness lists the backends.
 */
@Injectable()
export class DrainingHealthIndicator {
  constructor(
    private readonly shutdown: GracefulShutdownService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(): HealthIndicatorResult {
    return this.shutdown.draining ? this.indicators.check('gateway').down({ draining: true }) : {};
  }
}
