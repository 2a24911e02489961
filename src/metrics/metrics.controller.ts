import { Controller, Get } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** Paths this controller serves; the edge dispatcher routes them to Nest instead of the proxy. */
export const METRICS_PATHS = ['/metrics'] as const;

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  read() {
    return this.metrics.snapshot();
  }
}
