import type { FactoryProvider } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { RecentStats } from '../metrics/recent-stats.js';

/**
 * The status page's RecentStats, fed by every finished proxied request. Subscribed here rather
 * than in MetricsService, so metrics stays a leaf that knows nothing of the page.
 */
export const recentStatsProvider: FactoryProvider<RecentStats> = {
  provide: RecentStats,
  inject: [MetricsService],
  useFactory: (metrics: MetricsService) => {
    const stats = new RecentStats();
    metrics.onRequestCompleted((request) => stats.record(request.backend, request));
    return stats;
  },
};
