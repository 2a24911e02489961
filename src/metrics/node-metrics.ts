import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's default gauges whose names end in `_total`, which Prometheus keeps for counters
 * (`promtool check metrics` rejects them, prometheus/client_js#283). Each is the sum of the family
 * of the same name without `_total`, which stays, by `type`: `sum without (type) (nodejs_active_handles)`.
 * A renamed copy would be a second name for one number, so they are left out, not renamed.
 */
export const GAUGES_NAMED_LIKE_COUNTERS: readonly string[] = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Node's process metrics (event-loop lag, heap, GC, CPU, file descriptors, libuv handles and
 * requests by type), read when scraped, on the gateway's own registry.
 */
export function registerNodeMetrics(registry: Registry): void {
  // The event-loop-delay monitor and GC observer this starts cannot be stopped (prom-client has no
  // API for it, prometheus/client_js#494); neither keeps the process alive, and there is one per gateway.
  collectDefaultMetrics({ register: registry });
  // prom-client offers no way to leave one default collector out; removing its metric stops its collect().
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);
}
