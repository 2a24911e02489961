import type { BackendHealth, BackendState } from './metrics.service.js';

/**
 * The breaker-state gauge's value: 0 closed, 1 half-open, 2 open, so that "higher is worse" and
 * `max by (backend)` reads naturally. Written out because cockatiel numbers its own states
 * differently (Closed=0, Open=1, HalfOpen=2), and dashboards must not change with a library.
 */
export function breakerStateValue(state: BackendState): 0 | 1 | 2 {
  switch (state) {
    case 'closed':
      return 0;
    case 'half-open':
      return 1;
    case 'open':
      return 2;
    default: {
      const unknown: never = state;
      throw new Error(`unknown breaker state ${String(unknown)}`);
    }
  }
}

/** The health gauge's value: 1 while active health checks pass (or are off), 0 once they fail. */
export function healthValue(health: BackendHealth): 0 | 1 {
  switch (health) {
    case 'healthy':
      return 1;
    case 'unhealthy':
      return 0;
    default: {
      const unknown: never = health;
      throw new Error(`unknown health ${String(unknown)}`);
    }
  }
}
