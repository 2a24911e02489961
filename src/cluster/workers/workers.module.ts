import { Global, Module } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { MetricsModule } from '../../metrics/metrics.module.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PrometheusExporter } from '../../metrics/prometheus.exporter.js';
import { WHOLE_PROCESS_METRICS } from '../../metrics/whole-process-metrics.js';
import { isWorkerOfPrimary, primaryChannelOf } from './primary-channel.js';
import { WorkerMetrics } from './worker-metrics.js';

/**
 * A worker's part of --workers: /metrics and /status for the whole gateway (WHOLE_PROCESS_METRICS),
 * undefined in a single process. Global, so the metrics and status controllers can take it without
 * their modules importing the cluster (metrics/ is a leaf).
 */
@Global()
@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: WHOLE_PROCESS_METRICS,
      inject: [GATEWAY_CONFIG, MetricsService, PrometheusExporter],
      useFactory: (config: GatewayConfig, metrics: MetricsService, exporter: PrometheusExporter) =>
        isWorkerOfPrimary(config) ? new WorkerMetrics(primaryChannelOf(config), metrics, exporter) : undefined,
    },
  ],
  exports: [WHOLE_PROCESS_METRICS],
})
export class WorkersModule {}
