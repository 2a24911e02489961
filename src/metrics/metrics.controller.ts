import { Controller, Get, Header, Headers, Inject, Optional, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { negotiateMetricsFormat } from './metrics-format.js';
import { MetricsService } from './metrics.service.js';
import { PrometheusExporter } from './prometheus.exporter.js';
import { WHOLE_PROCESS_METRICS, type WholeProcessMetrics } from './whole-process-metrics.js';
import { OWN_PATHS } from '../own-paths.js';

@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly prometheus: PrometheusExporter,
    /** With --workers, the whole gateway's numbers (every worker's); undefined in a single process. */
    @Optional() @Inject(WHOLE_PROCESS_METRICS) private readonly wholeProcess: WholeProcessMetrics | undefined,
  ) {}

  /**
   * The JSON snapshot for people and curl; Prometheus's text format for a scraper whose `Accept`
   * asks for it, or with `?format=prometheus`. `Vary` keeps caches from mixing the two up.
   */
  @Get(OWN_PATHS.metrics)
  @Header('Vary', 'Accept')
  async read(@Headers('accept') accept: string | undefined, @Query('format') format: unknown, @Res({ passthrough: true }) res: Response) {
    if (negotiateMetricsFormat(accept, format) === 'json') return this.wholeProcess ? this.wholeProcess.snapshot() : this.metrics.snapshot();
    const { contentType, body } = await (this.wholeProcess ? this.wholeProcess.prometheus() : this.prometheus.render());
    res.setHeader('Content-Type', contentType);
    return body;
  }
}
