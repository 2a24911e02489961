import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable } from '@nestjs/common';

/** Breaker state as /metrics reports it. */
export type BackendState = 'closed' | 'open' | 'half-open';

/** Where a state came from: this instance, or another member of the cluster (--redis-url, --workers). */
export type StateOrigin = 'local' | 'cluster';

/** The active health checks' verdict as /metrics reports it. */
export type BackendHealth = 'healthy' | 'unhealthy';

/** One finished proxied request, as metrics and logs see it. */
export interface CompletedRequest {
  /** The backend that answered, or the last one tried; undefined when none was picked. */
  readonly backend: string | undefined;
  /** The service the request was routed to; undefined when it was not routed. */
  readonly service: string | undefined;
  readonly method: string;
  /** What the client got: the backend's status, the gateway's own error, or 499 when it left first. */
  readonly status: number;
  /** From the request's arrival to its end, as the client saw it. */
  readonly durationMs: number;
  /** The last try, from sending it to the end of its response; undefined when no backend answered. */
  readonly upstreamMs: number | undefined;
  /** Tries made again after a failed one. */
  readonly retries: number;
}

export type CompletedRequestListener = (request: CompletedRequest) => void;

/**
 * One try at a backend is over. Positional arguments, because one is reported per try.
 * @param status the backend's answer; 502 when it gave none (refused, reset, timed out); 499 when the client left first.
 */
export type CompletedTryListener = (backend: string, status: number, durationMs: number) => void;

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
  /** Where the breaker state and the health verdict came from. */
  breakerOrigin: StateOrigin = 'local';
  healthOrigin: StateOrigin = 'local';
  /** Breaker state changes so far, by the state entered. */
  readonly transitions: Record<BackendState, number> = { closed: 0, open: 0, 'half-open': 0 };
  /** When its breaker state or health last changed (epoch ms); the gateway's start until then. */
  since = Date.now();
  /** What its latest failed try met (`ECONNREFUSED`, `timeout`, `503`), and when (epoch ms). */
  lastError: string | undefined;
  lastErrorAt = 0;

  constructor(
    readonly url: string,
    /** The service it belongs to: the `service` label of its series. */
    public service = 'default',
  ) {}
}

/**
 * The gateway's counters, kept as plain fields because the proxy bumps them on every request.
 * `requests = responses + errors + aborted + inFlight` holds at every moment.
 */
@Injectable()
export class MetricsService {
  /**
   * Which gateway these numbers are from: a fresh id per start (the heartbeat's too), the host and
   * the process. Prometheus adds the scraped address as its own `instance` label; this tells
   * instances apart behind one address (several containers, a restart) and links /metrics to /status.
   */
  readonly instance = { id: randomUUID(), hostname: hostname(), pid: process.pid } as const;
  /** When counting began, at the gateway's start (epoch ms): every total here is since then. */
  readonly startedAt = Date.now();
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
  /** Requests sent to a backend out of rotation because every backend was (panic routing). */
  panicRouted = 0;
  /** WebSocket tunnels open now (client to backend, after a 101). */
  websocketConnections = 0;
  /** Log lines lost to a stdout reader that fell too far behind: the logger keeps the count, GatewayObservers wires it here. */
  logLinesDropped: () => number = () => 0;
  /** Short hash of the routing configuration in force (see RoutingConfig.hash). */
  configHash = '';
  /** Config file reloads (a change or SIGHUP), by result: applied (or unchanged), or refused as invalid. */
  readonly configReloads = { success: 0, failure: 0 };
  /** With --redis-url: whether Redis answers the rate limiter now, and how many outages it has had. Undefined without. */
  redis: { up: boolean; fallbacks: number } | undefined;

  private readonly backends = new Map<string, BackendCounters>();
  private readonly completedListeners: CompletedRequestListener[] = [];
  private readonly tryListeners: CompletedTryListener[] = [];

  /** The counters of a backend, created on first use; register backends in their configured order. */
  backend(url: string, service?: string): BackendCounters {
    let counters = this.backends.get(url);
    if (!counters) {
      counters = new BackendCounters(url);
      this.backends.set(url, counters);
    }
    if (service !== undefined) counters.service = service;
    return counters;
  }

  /** A backend that left the configuration: it is no longer listed (the gateway's totals keep what it did). */
  forgetBackend(url: string): void {
    this.backends.delete(url);
  }

  /** Every configured backend's counters, in the configured order. */
  allBackends(): readonly BackendCounters[] {
    return [...this.backends.values()];
  }

  /** Subscribes to every finished proxied request (histograms, recent windows). */
  onRequestCompleted(listener: CompletedRequestListener): void {
    this.completedListeners.push(listener);
  }

  /** Called once per proxied request, when it is over. */
  requestCompleted(request: CompletedRequest): void {
    for (const listener of this.completedListeners) listener(request);
  }

  /** Subscribes to every finished try at a backend (per-backend recent rates). */
  onTryCompleted(listener: CompletedTryListener): void {
    this.tryListeners.push(listener);
  }

  /** Called once per try, when it is over. */
  tryCompleted(backend: string, status: number, durationMs: number): void {
    for (const listener of this.tryListeners) listener(backend, status, durationMs);
  }

  /** A backend's breaker changed state. */
  breakerChanged(backend: string, state: BackendState, origin: StateOrigin = 'local'): void {
    const counters = this.backend(backend);
    counters.state = state;
    counters.breakerOrigin = origin;
    counters.transitions[state]++;
    counters.since = Date.now();
  }

  /** A backend's active health checks changed their verdict. */
  healthChanged(backend: string, healthy: boolean, origin: StateOrigin = 'local'): void {
    const counters = this.backend(backend);
    counters.health = healthy ? 'healthy' : 'unhealthy';
    counters.healthOrigin = origin;
    counters.since = Date.now();
  }

  get inFlight(): number {
    return this.requests - this.responses - this.errors - this.aborted;
  }

  snapshot() {
    return {
      instance: this.instance,
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      aborted: this.aborted,
      inFlight: this.inFlight,
      rateLimited: this.rateLimited,
      retries: this.retries,
      panicRouted: this.panicRouted,
      websocketConnections: this.websocketConnections,
      config: { hash: this.configHash, reloads: { ...this.configReloads } },
      backends: [...this.backends.values()].map(({ url, service, requests, responses, errors, inFlight, state, health, breakerOrigin, healthOrigin }) => ({
        url,
        service,
        requests,
        responses,
        errors,
        inFlight,
        state,
        health,
        breakerOrigin,
        healthOrigin,
      })),
    };
  }
}
