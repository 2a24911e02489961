/**
 * Services and routes: what the config file (`--config`) declares, resolved against the flags
 * (a flag is the default of every per-service setting the file omits). Without a file, the flags
 * describe one service, `default`, and one catch-all route to it: the gateway as it always was.
 */

/** Balancing strategies a service may name (`balance`, `--balance`). */
export const BALANCE_STRATEGIES = ['round-robin', 'least-request', 'consistent-hash'] as const;
export type BalanceStrategyName = (typeof BALANCE_STRATEGIES)[number];

/**
 * What `consistent-hash` hashes (`hashOn`, `--hash-on`): a request header's value, a cookie's,
 * the client's address (as the rate limiter sees it, --trust-proxy included), or the path
 * without its query.
 */
export type HashOn =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string }
  | { readonly kind: 'client-ip' }
  | { readonly kind: 'path' };

export const SAME_SITE_VALUES = ['Strict', 'Lax', 'None'] as const;
export type SameSite = (typeof SAME_SITE_VALUES)[number];

/** Sticky sessions by cookie (`sticky`, `--sticky-cookie`): Traefik's sticky.cookie, HAProxy's cookie persistence. */
export interface StickySettings {
  /** The cookie's name; its value names a backend (a hash of its URL, never the URL). */
  readonly cookie: string;
  /** Sent over HTTPS only. Default false. */
  readonly secure: boolean;
  /** Hidden from page scripts. Default true: only the gateway reads it. */
  readonly httpOnly: boolean;
  /** Default Lax (what browsers assume anyway). */
  readonly sameSite: SameSite;
}

/** One backend of a service. */
export interface BackendSpec {
  /** Base URL as written (trailing slashes dropped), `http://` or `https://`. */
  readonly url: string;
  /** Share of the service's traffic relative to its other backends; whole, ≥ 1, default 1. */
  readonly weight: number;
  /** Configured but taking no new requests (set through the admin API, or in the file). */
  readonly drained: boolean;
}

/** Circuit breaker of each backend of a service: `--breaker-failures`, `--breaker-cooldown`, `--breaker-statuses`. */
export interface BreakerSettings {
  /** `0` turns breakers off. */
  readonly failures: number;
  readonly cooldownMs: number;
  readonly statuses: ReadonlySet<number>;
}

/** Active health checks of each backend of a service: the `--health-check-*` flags. */
export interface HealthCheckSettings {
  /** `0` turns checks off. */
  readonly intervalMs: number;
  readonly path: string;
  readonly timeoutMs: number;
  readonly fall: number;
  readonly rise: number;
}

/** Every per-backend setting of a service, resolved: the file's value, else the flag's. */
export interface ServiceSettings {
  /** `--balance`, default round-robin. */
  readonly balance: BalanceStrategyName;
  /** `--hash-on`: the key of `consistent-hash` (set exactly when balance is consistent-hash). */
  readonly hashOn: HashOn | undefined;
  /** `consistent-hash` only: no backend takes more than this times the average load in flight (Envoy's hash_balance_factor); undefined: off. */
  readonly boundedLoad: number | undefined;
  /** `--sticky-cookie`; undefined: no stickiness. */
  readonly sticky: StickySettings | undefined;
  /** `--slow-start`: how long a backend that comes back ramps up to its full weight; `0`: off. */
  readonly slowStartMs: number;
  /** `--retries` */
  readonly retries: number;
  /** `--write-timeout` */
  readonly writeTimeoutMs: number;
  /** `--try-timeout`; undefined: the write timeout. */
  readonly tryTimeoutMs: number | undefined;
  /** `--max-inflight-per-backend`; `0`: no cap. */
  readonly maxInflightPerBackend: number;
  /** `--max-sockets-per-backend` */
  readonly maxSocketsPerBackend: number;
  readonly breaker: BreakerSettings;
  readonly healthCheck: HealthCheckSettings;
  /** Re-resolve backend host names by DNS, every address a backend (`--resolve-backends`). */
  readonly resolve: boolean;
  /** How often names are re-resolved when `resolve` is on (`--dns-refresh`, default 5s). */
  readonly dnsRefreshMs: number;
}

export interface ServiceSpec {
  readonly name: string;
  readonly backends: readonly BackendSpec[];
  readonly settings: ServiceSettings;
}

/** One header a route requires: the name lower-cased, the value compared exactly. */
export interface HeaderMatch {
  readonly name: string;
  readonly value: string;
}

export interface RouteSpec {
  /** Lower-cased host without port: exact (`api.example.com`), wildcard (`*.example.com`), or undefined for any. */
  readonly host: string | undefined;
  /** Starts with `/`, no trailing `/` unless it is `/`; matches on a segment boundary. Default `/`. */
  readonly pathPrefix: string;
  /** Upper-cased methods; undefined: any method. */
  readonly methods: ReadonlySet<string> | undefined;
  /** Every one must be present with exactly this value; empty: no header condition. */
  readonly headers: readonly HeaderMatch[];
  /** Name of a service in the same config. */
  readonly service: string;
  /** Remove the matched prefix before forwarding (`/users/42` -> `/42`, `/users` -> `/`). */
  readonly stripPrefix: boolean;
  /** This route's own per-client requests per second; undefined: the gateway's `--rate-limit`. */
  readonly rateLimitPerSecond: number | undefined;
  /** Position in the file: the last tie-breaker of precedence. */
  readonly index: number;
}

/** One running version of the routing configuration. */
export interface RoutingConfig {
  /** By name, in the file's order. */
  readonly services: ReadonlyMap<string, ServiceSpec>;
  /** In the file's order (precedence is the route table's business). */
  readonly routes: readonly RouteSpec[];
  /** Short hash of the declared document (hex), shown on /status and /metrics to tell versions apart. */
  readonly hash: string;
  /** The document it was resolved from, as JSON data in the file's shape: what the admin API edits and a shared store keeps. */
  readonly document: unknown;
}

/** Whether any service has an https:// backend: only then is the context of trusted CAs (hundreds of them) worth making. */
export function hasHttpsBackends(routing: RoutingConfig): boolean {
  for (const service of routing.services.values()) if (service.backends.some(({ url }) => url.startsWith('https:'))) return true;
  return false;
}

/** The service the flags describe when there is no config file. */
export const DEFAULT_SERVICE = 'default';

/** DI token of the RoutingConfig the gateway starts with (the file's, or the flags'). */
export const ROUTING_CONFIG = Symbol('ROUTING_CONFIG');
