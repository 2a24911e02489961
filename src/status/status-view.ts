import type { BackendHealth, BackendState, StateOrigin } from '../metrics/metrics.service.js';
import type { ClusterMember } from '../cluster/cluster-heartbeat.js';
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

/** The latest failed try at a backend. */
export interface BackendError {
  /** What the try met: an error code (`ECONNREFUSED`, `ECONNRESET`), `timeout`, or the status that failed it (`503`). */
  readonly reason: string;
  /** Epoch ms. */
  readonly at: number;
}

export interface BackendStatus {
  readonly url: string;
  /** The service it belongs to. */
  readonly service: string;
  readonly availability: BackendAvailability;
  readonly breaker: BackendState;
  readonly health: BackendHealth;
  /** Where the breaker state came from: this instance's traffic, or another instance of the cluster. */
  readonly breakerOrigin: StateOrigin;
  /** Where the health verdict came from: this instance's checks, or another instance's (one checks per interval). */
  readonly healthOrigin: StateOrigin;
  /** When its breaker state or health last changed (epoch ms); the gateway's start until then. */
  readonly since: number;
  /** Null until one of its tries fails. */
  readonly lastError: BackendError | null;
  readonly inFlight: number;
  /** Since the gateway started. */
  readonly totals: { readonly requests: number; readonly responses: number; readonly errors: number };
  readonly lastMinute: RecentSummary;
}

export interface GatewayStatus {
  /** package.json's `version`; `unknown` when it cannot be read. */
  readonly version: string;
  /** When the gateway started (epoch ms): its uptime is `generatedAt` minus this. */
  readonly startedAt: number;
  /** Every backend is down by its own signals, so requests are sent to them anyway (see panicRouting). */
  readonly panicRouting: boolean;
  /** Since the gateway started; the same counters as /metrics. */
  readonly totals: {
    readonly requests: number;
    readonly responses: number;
    readonly errors: number;
    readonly aborted: number;
    readonly inFlight: number;
    readonly rateLimited: number;
    readonly retries: number;
    /** Requests sent to a backend out of rotation because every backend was (panic routing). */
    readonly panicRouted: number;
  };
  readonly lastMinute: RecentSummary;
}

/** The cluster this gateway is part of (--redis-url): its live instances, from their heartbeats. */
export interface ClusterStatus {
  /** Whether Redis answers this instance's rate limiter now. */
  readonly redisUp: boolean;
  /** When the list was read from Redis (epoch ms; 0: never): it is kept through an outage. */
  readonly seenAt: number;
  /** Every live instance, this one included (`self`), oldest first. */
  readonly instances: readonly ClusterMember[];
}

/** What `GET /status?format=json` answers, and what the page shows. */
/** One route of the running configuration, as the file declares it (`null`: no condition). */
export interface RouteStatus {
  readonly host: string | null;
  readonly pathPrefix: string;
  readonly methods: readonly string[] | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly service: string;
  readonly stripPrefix: boolean;
  readonly rateLimit: number | null;
}

/** The routing configuration in force: its version, its services and its routes in the order they are tried. */
export interface RoutingStatus {
  /** Short hash of the configuration (also `gateway_config_info{hash}` on /metrics). */
  readonly hash: string;
  readonly services: readonly { readonly name: string; readonly balance: string; readonly backends: number }[];
  readonly routes: readonly RouteStatus[];
}

export interface StatusView {
  /** ISO 8601; the page measures every age and duration up to this moment. */
  readonly generatedAt: string;
  readonly windowSeconds: number;
  readonly gateway: GatewayStatus;
  readonly backends: readonly BackendStatus[];
  readonly routing: RoutingStatus;
  /** Null when the gateway is alone (no --redis-url). */
  readonly cluster: ClusterStatus | null;
}
