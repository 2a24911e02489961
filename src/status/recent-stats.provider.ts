import type { FactoryProvider } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { RecentStats } from '../metrics/recent-stats.js';

/**
 * The status page's RecentStats, fed by every finished proxied request (gateway totals) and every
 * try (per backend). Subscribed here rather than in MetricsService, so metrics stays a leaf that
 * knows nothing of the page.
 */
export const recentStatsProvider: FactoryProvider<RecentStats> = {
  provide: RecentStats,
  inject: [MetricsService],
  useFactory: (metrics: MetricsService) => {
    const stats = new RecentStats();
    metrics.onRequestCompleted((request) => stats.recordRequest(request));
    metrics.onTryCompleted((backend, status, durationMs) => stats.recordTry(backend, status, durationMs));
    return stats;
  },
};
