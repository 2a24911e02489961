import type { HealthCheckSettings } from '../../config/routing-config.js';
import type { Upstream } from '../upstream.js';

/** How a check is made: its service's `healthCheck` path and timeout. */
export type ProbeSettings = Pick<HealthCheckSettings, 'path' | 'timeoutMs'>;

/** One active health check of one backend: how it is made is this seam's business. */
export interface HealthProbe {
  /**
   * @param signal aborted when the gateway stops: the check should end at once.
   * @returns true if the backend passed; false for any failure. Never rejects.
   */
  check(upstream: Upstream, settings: ProbeSettings, signal: AbortSignal): Promise<boolean>;
}

/** DI token of the HealthProbe. */
export const HealthProbe = Symbol('HealthProbe');
