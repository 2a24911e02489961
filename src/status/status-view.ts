import type { BackendHealth, BackendState } from '../metrics/metrics.service.js';
import type { RecentSummary } from '../metrics/recent-stats.js';

/**
 * Whether a backend takes traffic, in one word for people: `down` when its breaker is open or its
 * health checks fail (the balancer skips it), `probing` while its half-open breaker lets one
 * request test it, `up` otherwise.
 */
export type BackendAvailability = 'up' | 'probing' | 'down';

export function backendAvailability(state: BackendState, health: BackendHealth): BackendAvailability {
  if (health === 'unhealthy') return 'down';
  switch (state) {
    case 'closed':
      return 'up';
    case 'half-open':
      return 'probing';
    case 'open':
      return 'down';
    default: {
      const unknown: never = state;
      throw new Error(`unknown breaker state ${String(unknown)}`);
    }
  }
}

export interface BackendStatus {
  readonly url: string;
  readonly availability: BackendAvailability;
  readonly breaker: BackendState;
  readonly health: BackendHealth;
  readonly inFlight: number;
  /** Since the gateway started. */
  readonly totals: { readonly requests: number; readonly responses: number; readonly errors: number };
  readonly lastMinute: RecentSummary;
}

export interface GatewayStatus {
  /** Since the gateway started; the same counters as /metrics. */
  readonly totals: {
    readonly requests: number;
    readonly responses: number;
    readonly errors: number;
    readonly aborted: number;
    readonly inFlight: number;
    readonly rateLimited: number;
    readonly retries: number;
  };
  readonly lastMinute: RecentSummary;
}

/** What `GET /status?format=json` answers, and what the page shows. */
export interface StatusView {
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly windowSeconds: number;
  readonly gateway: GatewayStatus;
  readonly backends: readonly BackendStatus[];
}
