import type { ListenAddress } from './listen-address.js';
import type { BalanceStrategyName, HashOn } from './routing-config.js';
import type { AllowedMethods } from './request-rules.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** How much the gateway logs (pino's levels). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The library that talks to backends. */
export type ProxyEngine = 'http-proxy-middleware' | 'undici';

/** How requests are grouped for rate limiting. */
export type RateLimitScope = 'client' | 'global';

/**
 * The gateway's whole configuration: parsed once at boot from flags and environment
 * variables (a flag wins over its variable), then frozen. Each field names its flag,
 * its variable and its default; numbers carry their unit in their name.
 */
export interface GatewayConfig {
  /** Address to accept clients on. `--listen`, `LISTEN`, default `:3000` (every interface). */
  readonly listen: ListenAddress;
  /**
   * Gateway processes serving --listen (and --admin-listen) together. Past 1 the process becomes a
   * node:cluster primary that forks this many workers and shares their rate limits, shared store and
   * metrics (or leaves limits to Redis with --redis-url); 1 is the plain single process.
   * `--workers`, `WORKERS`, default `1`; `auto` is one per core (`os.availableParallelism()`).
   */
  readonly workers: number;
  /**
   * Longest time to receive a client's request headers and body; past it the client gets 408
   * and the connection is closed. `--read-timeout`, `READ_TIMEOUT`, default `5s`; `0` means none.
   */
  readonly readTimeoutMs: number;
  /**
   * Longest time to wait for a backend's response headers, or for the next byte of its body.
   * `--write-timeout`, `WRITE_TIMEOUT`, default `10s`; `0` means none.
   */
  readonly writeTimeoutMs: number;
  /** Requests per second each client may send; `0` turns limiting off. `--rate-limit`, `RATE_LIMIT`, default `100`. */
  readonly rateLimitPerSecond: number;
  /**
   * `client` limits each client address separately; `global` limits all clients together, as the
   * Go proxy did. `--rate-limit-scope`, `RATE_LIMIT_SCOPE`, default `client`.
   */
  readonly rateLimitScope: RateLimitScope;
  /**
   * Which proxies in front of the gateway may say who the client is (`X-Forwarded-For`, and keep
   * their `X-Forwarded-Proto`/`-Host`): nobody, the last N hops, or proxies at given addresses and
   * CIDRs (see TrustedProxies). `--trust-proxy`, `TRUST_PROXY`: `false` (default), `true` (= 1 hop),
   * a number of hops, or `10.0.0.0/8,fd00::/8`.
   */
  readonly trustProxy: TrustedProxies;
  /**
   * Backend base URLs, `http://` or `https://`, in round-robin order; a path in a URL prefixes
   * every proxied path. `--backends` (comma-separated), `BACKENDS`, default `http://localhost:8080`.
   */
  readonly backends: readonly string[];
  /**
   * The config file of services and routes (YAML or JSON); undefined: `backends` is one service, `default`,
   * behind one catch-all route. `--config`, `CONFIG`, default unset.
   */
  readonly configPath: string | undefined;
  /**
   * In a cluster (a shared store: --redis-url, or --workers), what wins at start and when the local
   * --config file changes: `file` (this instance's file, published to the others; at start the stored
   * version is taken when it was made from the same file) or `redis` (the stored version, whatever
   * the file says). Admin API changes reach every member either way. `--config-source`, `CONFIG_SOURCE`, default `file`.
   */
  readonly configSource: 'file' | 'redis';
  /** Resolve backend host names by DNS, every address a backend. `--resolve-backends`, `RESOLVE_BACKENDS`, default `false`. */
  readonly resolveBackends: boolean;
  /** DNS servers asked for those names (`ip` or `ip:port`); empty: the system's resolver. `--dns-resolver`, `DNS_RESOLVER`, default unset. */
  readonly dnsResolvers: readonly string[];
  /** How often those names are resolved again. `--dns-refresh`, `DNS_REFRESH`, default `5s`. */
  readonly dnsRefreshMs: number;
  /**
   * How each service spreads requests over its backends (a service's `balance` in --config):
   * `round-robin` (smooth weighted), `least-request` (power of two choices on requests in flight)
   * or `consistent-hash` (on --hash-on). `--balance`, `BALANCE`, default `round-robin`.
   */
  readonly balance: BalanceStrategyName;
  /** The key of `consistent-hash`: `header:<name>`, `cookie:<name>`, `client-ip` or `path`. `--hash-on`, `HASH_ON`, default unset. */
  readonly hashOn: HashOn | undefined;
  /**
   * Sticky sessions for the flags' one service: the cookie naming a client's backend (HttpOnly,
   * SameSite=Lax; a service's `sticky` in --config says more). `--sticky-cookie`, `STICKY_COOKIE`, default unset (off).
   */
  readonly stickyCookie: string | undefined;
  /** How long a backend that comes back (breaker closed, health restored, newly added) ramps up to its full weight; `0` is off. `--slow-start`, `SLOW_START`, default `0s`. */
  readonly slowStartMs: number;
  /**
   * Consecutive failures (refused, reset, timed out, or a status in --breaker-statuses from the
   * backend) that open a backend's circuit breaker; `0` turns breakers off. `--breaker-failures`,
   * `BREAKER_FAILURES`, default `5`.
   */
  readonly breakerFailures: number;
  /**
   * Backend answers that count as failures against its breaker; connection failures and timeouts
   * always count. `--breaker-statuses` (comma-separated; `none` or an empty flag value: none),
   * `BREAKER_STATUSES`, default `502,503,504`.
   */
  readonly breakerStatuses: ReadonlySet<number>;
  /**
   * How long an open breaker keeps its backend out of rotation before one probe request is let
   * through. `--breaker-cooldown`, `BREAKER_COOLDOWN`, default `10s`.
   */
  readonly breakerCooldownMs: number;
  /**
   * On SIGTERM or SIGINT, how long requests in flight may take to finish before their connections
   * are cut and the process exits. `--shutdown-timeout`, `SHUTDOWN_TIMEOUT`, default `30s`.
   */
  readonly shutdownTimeoutMs: number;
  /**
   * Most connections open at once to one backend; requests beyond wait for a free one.
   * `--max-sockets-per-backend`, `MAX_SOCKETS_PER_BACKEND`, default `256`.
   */
  readonly maxSocketsPerBackend: number;
  /**
   * `undici` (measured the fastest, so the default; see the README's benchmark) or
   * `http-proxy-middleware` (the design card's library, on Node's http client).
   * `--proxy-engine`, `PROXY_ENGINE`, default `undici`.
   */
  readonly proxyEngine: ProxyEngine;
  /** PEM certificate (chain) file; with `tlsKeyPath`, --listen serves HTTPS. `--tls-cert`, `TLS_CERT`, default unset. */
  readonly tlsCertPath: string | undefined;
  /** PEM private key of that certificate. `--tls-key`, `TLS_KEY`, default unset. */
  readonly tlsKeyPath: string | undefined;
  /** Oldest TLS version accepted. `--tls-min-version`, `TLS_MIN_VERSION`, default `TLSv1.2`. */
  readonly tlsMinVersion: 'TLSv1.2' | 'TLSv1.3';
  /** PEM CA file for client certificates (mutual TLS); undefined: none asked for. `--tls-client-ca`, `TLS_CLIENT_CA`, default unset. */
  readonly tlsClientCaPath: string | undefined;
  /** Whether a client certificate is `required` (checked in the handshake) or `optional`. `--tls-client-auth`, `TLS_CLIENT_AUTH`, default `required`. */
  readonly tlsClientAuth: 'required' | 'optional';
  /** Strict-Transport-Security sent over TLS; undefined (`off`) sends none. `--hsts`, `HSTS`, default `max-age=31536000`. */
  readonly hsts: string | undefined;
  /** Add X-Content-Type-Options (and HSTS over TLS) to every response. `--security-headers`, `SECURITY_HEADERS`, default `on`. */
  readonly securityHeaders: boolean;
  /** PEM CA file trusted for https:// backends besides the system CAs. `--upstream-ca`, `UPSTREAM_CA`, default unset. */
  readonly upstreamCaPath: string | undefined;
  /** PEM client certificate for https:// backends (mutual TLS). `--upstream-cert`, `UPSTREAM_CERT`, default unset. */
  readonly upstreamCertPath: string | undefined;
  /** Its private key. `--upstream-key`, `UPSTREAM_KEY`, default unset. */
  readonly upstreamKeyPath: string | undefined;
  /** Accept any backend certificate (warned at start). `--upstream-insecure`, `UPSTREAM_INSECURE`, default `false`. */
  readonly upstreamInsecure: boolean;
  /** The API keys file (consumers, key hashes, roles); undefined: no key needed. `--api-keys`, `API_KEYS`, default unset. */
  readonly apiKeysPath: string | undefined;
  /** Largest request body proxied, in bytes; `0` means none. `--max-body-size`, `MAX_BODY_SIZE`, default `10MiB`. */
  readonly maxBodyBytes: number;
  /** Largest request head (request line and headers), in bytes. `--max-header-size`, `MAX_HEADER_SIZE`, default `16KiB`. */
  readonly maxHeaderBytes: number;
  /** Methods proxied. `--allowed-methods`, `ALLOWED_METHODS`, default `GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS`. */
  readonly allowedMethods: AllowedMethods;
  /** Media types a request with a body may carry; empty allows any. `--allowed-content-types`, `ALLOWED_CONTENT_TYPES`. */
  readonly allowedContentTypes: readonly string[];
  /**
   * How many times a failed request may be tried again (see the README's retry rules).
   * `--retries`, `RETRIES`, default `2`.
   */
  readonly retries: number;
  /**
   * Largest request body kept to be sent again on a retry; a larger body streams once and is not
   * retried. `--retry-buffer`, `RETRY_BUFFER`, default `64KiB`.
   */
  readonly retryBufferBytes: number;
  /**
   * Longest wait for one try's response headers; undefined means --write-timeout, so a timed-out
   * request is not retried unless this is shorter. `--try-timeout`, `TRY_TIMEOUT`.
   */
  readonly tryTimeoutMs: number | undefined;
  /** Time between active health checks of each backend; `0` turns them off. `--health-check-interval`, `HEALTH_CHECK_INTERVAL`, default `5s`. */
  readonly healthCheckIntervalMs: number;
  /** Path the health checks GET on each backend. `--health-check-path`, `HEALTH_CHECK_PATH`, default `/`. */
  readonly healthCheckPath: string;
  /** Longest a health check may take. `--health-check-timeout`, `HEALTH_CHECK_TIMEOUT`, default `2s`. */
  readonly healthCheckTimeoutMs: number;
  /** Failed checks in a row that take a backend out. `--health-check-fall`, `HEALTH_CHECK_FALL`, default `2`. */
  readonly healthCheckFall: number;
  /** Passed checks in a row that put it back. `--health-check-rise`, `HEALTH_CHECK_RISE`, default `2`. */
  readonly healthCheckRise: number;
  /**
   * Most requests in flight to one backend; over it the next backend is tried, with all full the
   * client gets 503 at once. `--max-inflight-per-backend`, `MAX_INFLIGHT_PER_BACKEND`, default `0` (no cap).
   */
  readonly maxInflightPerBackend: number;
  /**
   * On SIGTERM, how long requests are still accepted (with /health/ready at 503) before the
   * listener closes. `--drain-delay`, `DRAIN_DELAY`, default `0s`.
   */
  readonly drainDelayMs: number;
  /**
   * Where the gateway's own endpoints (/health, /health/ready, /metrics, /status) are served instead
   * of on --listen, which then proxies those paths like any other; undefined keeps them on --listen.
   * `--admin-listen`, `ADMIN_LISTEN`, default unset.
   */
  readonly adminListen: ListenAddress | undefined;
  /**
   * Bearer token of the admin API (`/admin/services` on --admin-listen); the API is off unless both
   * are set. `--admin-token`, `ADMIN_TOKEN`, default unset.
   */
  readonly adminToken: string | undefined;
  /** `debug`, `info`, `warn` or `error`; access-log lines are `info`. `--log-level`, `LOG_LEVEL`, default `info`. */
  readonly logLevel: LogLevel;
  /** One JSON line per proxied request on stdout. `--access-log`, `ACCESS_LOG`, default `true`. */
  readonly accessLog: boolean;
  /**
   * Give every request an `X-Request-Id` (the client's when usable, else a new UUID), sent to the
   * backend and back to the client. `false` passes the client's header untouched and makes none.
   * `--request-ids`, `REQUEST_IDS`, default `true`.
   */
  readonly requestIds: boolean;
  /**
   * Keep a valid W3C `traceparent`, or start a trace for a request without one. `false` passes the
   * header untouched and starts none. `--trace-context`, `TRACE_CONTEXT`, default `true`.
   */
  readonly traceContext: boolean;
  /**
   * The Redis through which gateways share rate limits, breaker openings and health checks; undefined keeps all state in this process.
   * `--redis-url`, `REDIS_URL`, default unset.
   */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key: gateways with the same one share state. `--redis-prefix`, `REDIS_PREFIX`, default `gateway:`. */
  readonly redisPrefix: string;
  /** Longest wait for one Redis call (then the request is decided locally). `--redis-timeout`, `REDIS_TIMEOUT`, default `50ms`. */
  readonly redisTimeoutMs: number;
}

/** DI token of the frozen GatewayConfig. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
