import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { PrometheusExporter } from './prometheus.exporter.js';

@Module({
  controllers: [MetricsController],
  providers: [MetricsService, PrometheusExporter],
  exports: [MetricsService, PrometheusExporter],
})
export class MetricsModule {}
