import type { BackendHealth, BackendState, MetricsService, StateOrigin } from './metrics.service.js';
import type { PrometheusExposition } from './prometheus.exporter.js';

/** The JSON of /metrics: MetricsService's snapshot. */
export type MetricsSnapshot = ReturnType<MetricsService['snapshot']>;

/** With --workers: who is counted, and how often a worker had to be replaced. */
export interface WorkersSummary {
  /** Workers replaced after dying unexpectedly, since the primary started. */
  readonly restarts: number;
  /** The worker that answered this request. */
  readonly answeredBy: number;
  /** Each worker counted in the sums, and its own `requests`. */
  readonly processes: readonly { readonly pid: number; readonly requests: number }[];
}

/** /metrics's JSON with --workers: the sums of every worker's snapshot, and `workers`. */
export type WholeProcessSnapshot = MetricsSnapshot & { readonly workers?: WorkersSummary };

/**
 * The seam through which /metrics and /status answer for the whole gateway when it runs as several
 * worker processes (--workers): provided by the workers' module in a worker, `undefined` in a
 * single process, which answers with its own counters as it always did.
 */
export interface WholeProcessMetrics {
  /** The sum of every worker's snapshot (see sumMetricsSnapshots). */
  snapshot(): Promise<WholeProcessSnapshot>;
  /** Every worker's Prometheus metrics, aggregated by prom-client's AggregatorRegistry, and the primary's own. */
  prometheus(): Promise<PrometheusExposition>;
}

export const WHOLE_PROCESS_METRICS = Symbol('WholeProcessMetrics');

/** Breaker states from the best to the worst, for the merge below. */
const STATE_ORDER: readonly BackendState[] = ['closed', 'half-open', 'open'];

/**
 * Several processes' snapshots as one: every count summed (requests, responses, errors, in flight…,
 * per backend too). A backend's `state` and `health` are the worst any process reports (open over
 * half-open over closed; unhealthy over healthy): each worker has its own breaker and checks unless
 * they are shared, and a backend one of them keeps out is, for part of the traffic, out. A state
 * is from the cluster when any process learnt it from there. `instance` is the first snapshot's
 * (the answering worker puts its own first).
 */
export function sumMetricsSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  type Merged = { url: string; service: string; requests: number; responses: number; errors: number; inFlight: number; state: BackendState; health: BackendHealth; breakerOrigin: StateOrigin; healthOrigin: StateOrigin };
  const backends = new Map<string, Merged>();
  const total = { requests: 0, responses: 0, errors: 0, aborted: 0, inFlight: 0, rateLimited: 0, retries: 0, panicRouted: 0, websocketConnections: 0 };
  for (const snapshot of snapshots) {
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += snapshot[key];
    for (const backend of snapshot.backends) {
      const merged = backends.get(backend.url);
      if (!merged) {
        backends.set(backend.url, { ...backend });
        continue;
      }
      merged.requests += backend.requests;
      merged.responses += backend.responses;
      merged.errors += backend.errors;
      merged.inFlight += backend.inFlight;
      if (STATE_ORDER.indexOf(backend.state) > STATE_ORDER.indexOf(merged.state)) merged.state = backend.state;
      if (backend.health === 'unhealthy') merged.health = 'unhealthy';
      if (backend.breakerOrigin === 'cluster') merged.breakerOrigin = 'cluster';
      if (backend.healthOrigin === 'cluster') merged.healthOrigin = 'cluster';
    }
  }
  // Each worker applies configuration versions itself; the answering worker's is the one shown.
  return { instance: snapshots[0].instance, ...total, config: snapshots[0].config, backends: [...backends.values()] };
}
