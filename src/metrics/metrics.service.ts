import { Injectable } from '@nestjs/common';

/** Breaker state as /metrics reports it. */
export type BackendState = 'closed' | 'open' | 'half-open';

/** The active health checks' verdict as /metrics reports it. */
export type BackendHealth = 'healthy' | 'unhealthy';

/** Counters of one backend. A request that fails over counts once at each backend it tried. */
export class BackendCounters {
  /** Attempts sent to this backend. */
  requests = 0;
  /** Attempts the backend answered, whatever the status. */
  responses = 0;
  /** Attempts that failed at this backend: refused, reset, timed out. */
  errors = 0;
  inFlight = 0;
  state: BackendState = 'closed';
  /** Stays healthy while health checks are off (--health-check-interval=0). */
  health: BackendHealth = 'healthy';

  constructor(readonly url: string) {}
}

/**
 * The gateway's counters, kept as plain fields because the proxy bumps them on every request.
 * `requests = responses + errors + aborted + inFlight` holds at every moment.
 */
@Injectable()
export class MetricsService {
  /** Proxied requests accepted past the rate limiter. */
  requests = 0;
  /** Requests a backend answered (any status). */
  responses = 0;
  /** Requests the gateway answered itself with a 5xx. */
  errors = 0;
  /** Requests whose client went away before any backend answered (logged as 499). */
  aborted = 0;
  /** Requests refused with 429. */
  rateLimited = 0;
  /** Tries made again after a failed one (each counts once). */
  retries = 0;

  private readonly backends = new Map<string, BackendCounters>();

  /** The counters of a backend, created on first use; register backends in their configured order. */
  backend(url: string): BackendCounters {
    let counters = this.backends.get(url);
    if (!counters) {
      counters = new BackendCounters(url);
      this.backends.set(url, counters);
    }
    return counters;
  }

  get inFlight(): number {
    return this.requests - this.responses - this.errors - this.aborted;
  }

  snapshot() {
    return {
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      aborted: this.aborted,
      inFlight: this.inFlight,
      rateLimited: this.rateLimited,
      retries: this.retries,
      backends: [...this.backends.values()].map(({ url, requests, responses, errors, inFlight, state, health }) => ({
        url,
        requests,
        responses,
        errors,
        inFlight,
        state,
        health,
      })),
    };
  }
}
