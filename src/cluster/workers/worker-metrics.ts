import { Logger } from '@nestjs/common';
import type { MetricsService } from '../../metrics/metrics.service.js';
import type { PrometheusExposition, PrometheusExporter } from '../../metrics/prometheus.exporter.js';
import type { WholeProcessMetrics, WholeProcessSnapshot } from '../../metrics/whole-process-metrics.js';
import type { PrimaryChannel } from './primary-channel.js';

/** How long a scrape waits for the primary to gather every worker's metrics before answering with this worker's own. */
export const WHOLE_PROCESS_DEADLINE_MS = 2_000;

/**
 * /metrics and /status of a worker, for the whole gateway: the worker asks the primary, the
 * primary asks every worker for its own numbers (this class answers for this one), sums the JSON
 * snapshots, aggregates the Prometheus registries (prom-client's AggregatorRegistry) and adds its
 * own counters (worker restarts). A primary that does not answer in time gets this worker's own
 * numbers served instead, with a warning in the log: a scrape never fails for it.
 */
export class WorkerMetrics implements WholeProcessMetrics {
  private readonly logger = new Logger('Workers');

  constructor(
    private readonly channel: PrimaryChannel,
    private readonly metrics: MetricsService,
    private readonly exporter: PrometheusExporter,
  ) {
    channel.onCollect((format) => (format === 'json' ? Promise.resolve(metrics.snapshot()) : exporter.json()));
  }

  snapshot(): Promise<WholeProcessSnapshot> {
    return this.channel.call<WholeProcessSnapshot>({ op: 'metrics', format: 'json' }, WHOLE_PROCESS_DEADLINE_MS).catch((error: unknown) => {
      this.logger.warn(`${String(error)}: /metrics answers with this worker's (${process.pid}) own counters`);
      return this.metrics.snapshot();
    });
  }

  prometheus(): Promise<PrometheusExposition> {
    return this.channel.call<PrometheusExposition>({ op: 'metrics', format: 'prometheus' }, WHOLE_PROCESS_DEADLINE_MS).catch((error: unknown) => {
      this.logger.warn(`${String(error)}: /metrics answers with this worker's (${process.pid}) own metrics`);
      return this.exporter.render();
    });
  }
}
