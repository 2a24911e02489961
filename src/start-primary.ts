import { WorkerPrimary } from './cluster/workers/worker-primary.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { answerHits } from './proxy/rate-limit/primary-sliding-window.storage.js';
import { SlidingWindowThrottlerStorage } from './proxy/rate-limit/sliding-window.storage.js';

/**
 * The --workers primary's assembly (a composition root, like create-gateway.ts for a gateway): the
 * one sliding window every worker's rate-limit hits are counted in, and the primary that forks the
 * workers and answers them.
 */
export function startPrimary(config: GatewayConfig): void {
  const window = new SlidingWindowThrottlerStorage();
  new WorkerPrimary(config, (hits, answers) => answerHits(window, hits, answers)).start();
}
