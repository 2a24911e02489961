import { parseDuration, parsePositiveDuration } from './duration.js';
import type { GatewayConfig } from './gateway-config.js';
import { BALANCE_STRATEGIES } from './routing-config.js';
import { parseListenAddress } from './listen-address.js';
import { parseAllowedMethods, parseContentTypes } from './request-rules.js';
import { parseTrustedProxies } from './trusted-proxies.js';
import {
  parseAdminToken,
  parseDnsServers,
  parseBackendList,
  parseBoolean,
  parseByteSize,
  parsePositiveByteSize,
  parseChoice,
  parseCookieName,
  parseHashOn,
  parseFilePath,
  parseOffOr,
  parseOnOff,
  parseOptional,
  parsePath,
  parsePositiveWholeNumber,
  parseRedisUrl,
  parseStatusSet,
  parseWholeNumber,
  parseWorkerCount,
} from './value-parsers.js';

/** One command-line flag: its name (without dashes), the config field it fills, and how. */
export interface FlagSpec<K extends keyof GatewayConfig = keyof GatewayConfig> {
  readonly name: string;
  readonly key: K;
  /** The default, as the user would type it, so --help shows it and it goes through the same parser. */
  readonly defaultText: string;
  readonly help: string;
  /** What --help says the default is, when `defaultText` alone would not say it (an empty default). */
  readonly defaultHelp?: string;
  /** Boolean flags may stand alone (`--trust-proxy`), as in Go. */
  readonly boolean?: true;
  /** A credential: an error about its value says what is wrong, never the value. */
  readonly secret?: true;
  readonly parse: (text: string) => GatewayConfig[K];
}

function flag<K extends keyof GatewayConfig>(spec: FlagSpec<K>): FlagSpec<K> {
  return spec;
}

/** Every flag the gateway takes, in the order --help lists them. */
export const FLAGS: readonly FlagSpec[] = [
  flag({
    name: 'listen',
    key: 'listen',
    defaultText: ':3000',
    help: 'address to listen on, host:port or :port',
    parse: parseListenAddress,
  }),
  flag({
    name: 'workers',
    key: 'workers',
    defaultText: '1',
    help: 'gateway processes serving --listen together (node:cluster), sharing limits through the first process or Redis; auto: one per core',
    parse: parseWorkerCount,
  }),
  flag({
    name: 'read-timeout',
    key: 'readTimeoutMs',
    defaultText: '5s',
    help: 'longest time to receive a request (headers and body); 0 means none',
    parse: parseDuration,
  }),
  flag({
    name: 'write-timeout',
    key: 'writeTimeoutMs',
    defaultText: '10s',
    help: "longest wait for a backend's response headers or next body byte; 0 means none",
    parse: parseDuration,
  }),
  flag({
    name: 'rate-limit',
    key: 'rateLimitPerSecond',
    defaultText: '100',
    help: 'requests per second allowed per client (see --rate-limit-scope); 0 turns limiting off',
    parse: parseWholeNumber,
  }),
  flag({
    name: 'rate-limit-scope',
    key: 'rateLimitScope',
    defaultText: 'client',
    help: 'client: limit each client address; global: limit all clients together (the Go proxy)',
    parse: parseChoice(['client', 'global'] as const),
  }),
  flag({
    name: 'trust-proxy',
    key: 'trustProxy',
    defaultText: 'false',
    help: 'who may say who the client is in X-Forwarded-For: false, true (the one proxy in front), a number of proxy hops, or trusted addresses/CIDRs (10.0.0.0/8,fd00::/8)',
    boolean: true,
    parse: parseTrustedProxies,
  }),
  flag({
    name: 'tls-cert',
    key: 'tlsCertPath',
    defaultText: '',
    defaultHelp: 'unset: plain HTTP',
    help: 'PEM certificate (chain) file: with --tls-key, --listen serves HTTPS; reloaded within 2 s when the file changes',
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'tls-key',
    key: 'tlsKeyPath',
    defaultText: '',
    defaultHelp: 'unset: plain HTTP',
    help: "PEM private key file of --tls-cert's certificate",
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'tls-min-version',
    key: 'tlsMinVersion',
    defaultText: 'TLSv1.2',
    help: 'oldest TLS version accepted: TLSv1.2 or TLSv1.3',
    parse: parseChoice(['TLSv1.2', 'TLSv1.3'] as const),
  }),
  flag({
    name: 'tls-client-ca',
    key: 'tlsClientCaPath',
    defaultText: '',
    defaultHelp: 'unset: no client certificates',
    help: 'PEM file of the CA(s) that sign client certificates: mutual TLS; the verified subject and fingerprint reach the backend',
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'tls-client-auth',
    key: 'tlsClientAuth',
    defaultText: 'required',
    help: 'with --tls-client-ca: required (refused in the handshake without a valid certificate) or optional (no certificate: served; an invalid one: 401)',
    parse: parseChoice(['required', 'optional'] as const),
  }),
  flag({
    name: 'hsts',
    key: 'hsts',
    defaultText: 'max-age=31536000',
    help: 'Strict-Transport-Security value added to responses served over TLS; off: none',
    parse: parseOffOr((text) => text),
  }),
  flag({
    name: 'security-headers',
    key: 'securityHeaders',
    defaultText: 'on',
    help: 'add X-Content-Type-Options: nosniff (and, over TLS, Strict-Transport-Security) to every response unless the backend set them; off: none',
    parse: parseOnOff,
  }),
  flag({
    name: 'api-keys',
    key: 'apiKeysPath',
    defaultText: '',
    defaultHelp: 'unset: no keys asked for',
    help: 'YAML or JSON file of consumers (name, keyHash, roles, rateLimit) and roles: every proxied request then needs a key; reloaded within 2 s when it changes',
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'max-body-size',
    key: 'maxBodyBytes',
    defaultText: '10MiB',
    help: 'largest request body proxied (413 beyond it: at once for a Content-Length, as it streams for a chunked body); 0 means none',
    parse: parseByteSize,
  }),
  flag({
    name: 'max-header-size',
    key: 'maxHeaderBytes',
    defaultText: '16KiB',
    help: 'largest request head (request line and headers; 431 beyond it)',
    parse: parsePositiveByteSize,
  }),
  flag({
    name: 'allowed-methods',
    key: 'allowedMethods',
    defaultText: 'GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS',
    help: 'methods proxied (405 with Allow for others); * for any method but TRACE and CONNECT, which are never proxied',
    parse: parseAllowedMethods,
  }),
  flag({
    name: 'allowed-content-types',
    key: 'allowedContentTypes',
    defaultText: '',
    defaultHelp: 'unset: any',
    help: 'media types a request with a body may have (application/json,text/*; 415 for others)',
    parse: parseContentTypes,
  }),
  flag({
    name: 'backends',
    key: 'backends',
    defaultText: 'http://localhost:8080',
    help: 'comma-separated backend URLs (http:// or https://), used round-robin',
    parse: parseBackendList,
  }),
  flag({
    name: 'config',
    key: 'configPath',
    defaultText: '',
    defaultHelp: 'unset: --backends is one service behind one catch-all route',
    help: 'YAML or JSON file of services (backends, balancing, per-backend settings) and routes (host, path prefix, methods, headers); reloaded when it changes and on SIGHUP; flags are the defaults of what it omits',
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'config-source',
    key: 'configSource',
    defaultText: 'file',
    help: 'in a cluster (--redis-url, --workers): what wins at start and when the local --config changes: file (this instance\'s file, published to the others) or redis (the cluster\'s stored configuration)',
    parse: parseChoice(['file', 'redis'] as const),
  }),
  flag({
    name: 'resolve-backends',
    key: 'resolveBackends',
    defaultText: 'false',
    help: 'resolve backend host names by DNS every --dns-refresh, every address a backend (a service\'s `resolve` in --config)',
    boolean: true,
    parse: parseBoolean,
  }),
  flag({
    name: 'dns-resolver',
    key: 'dnsResolvers',
    defaultText: '',
    defaultHelp: "unset: the system's (getaddrinfo, /etc/hosts)",
    help: 'DNS servers asked by --resolve-backends, comma-separated addresses with an optional port: 10.0.0.53,[fd00::53]:5353 (NGINX\'s resolver)',
    parse: parseDnsServers,
  }),
  flag({
    name: 'dns-refresh',
    key: 'dnsRefreshMs',
    defaultText: '5s',
    help: 'how often backend host names are resolved again with --resolve-backends',
    parse: parsePositiveDuration,
  }),
  flag({
    name: 'balance',
    key: 'balance',
    defaultText: 'round-robin',
    help: `how requests are spread over backends: ${BALANCE_STRATEGIES.join(', ')} (a service's \`balance\` in --config)`,
    parse: parseChoice(BALANCE_STRATEGIES),
  }),
  flag({
    name: 'hash-on',
    key: 'hashOn',
    defaultText: '',
    defaultHelp: 'unset; needed by --balance=consistent-hash',
    help: "what consistent-hash hashes: header:<name>, cookie:<name>, client-ip or path (a service's `hashOn` in --config)",
    parse: parseOptional(parseHashOn),
  }),
  flag({
    name: 'sticky-cookie',
    key: 'stickyCookie',
    defaultText: '',
    defaultHelp: 'unset: no sticky sessions',
    help: "sticky sessions: the name of a cookie that keeps each client on one backend (a service's `sticky` in --config)",
    parse: parseOptional(parseCookieName),
  }),
  flag({
    name: 'slow-start',
    key: 'slowStartMs',
    defaultText: '0s',
    help: "how long a backend that comes back ramps up from a tenth of its weight to all of it; 0s is off (a service's `slowStart` in --config)",
    parse: parseDuration,
  }),
  flag({
    name: 'upstream-ca',
    key: 'upstreamCaPath',
    defaultText: '',
    defaultHelp: 'unset: the system CAs alone',
    help: 'PEM file of CA(s) trusted for https:// backends, besides the system CAs',
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'upstream-cert',
    key: 'upstreamCertPath',
    defaultText: '',
    defaultHelp: 'unset: none',
    help: 'PEM client certificate presented to https:// backends (mutual TLS), with --upstream-key',
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'upstream-key',
    key: 'upstreamKeyPath',
    defaultText: '',
    defaultHelp: 'unset: none',
    help: "PEM private key of --upstream-cert's certificate",
    parse: parseOptional(parseFilePath),
  }),
  flag({
    name: 'upstream-insecure',
    key: 'upstreamInsecure',
    defaultText: 'false',
    help: "accept any certificate from https:// backends (never the default; logs a warning at start)",
    boolean: true,
    parse: parseBoolean,
  }),
  flag({
    name: 'breaker-failures',
    key: 'breakerFailures',
    defaultText: '5',
    help: "consecutive failures (refused, reset, timeout, a status in --breaker-statuses) that open a backend's circuit breaker; 0 turns breakers off",
    parse: parseWholeNumber,
  }),
  flag({
    name: 'breaker-statuses',
    key: 'breakerStatuses',
    defaultText: '502,503,504',
    help: "backend statuses that count against its breaker (connection failures and timeouts always do); none: only those",
    parse: parseStatusSet,
  }),
  flag({
    name: 'breaker-cooldown',
    key: 'breakerCooldownMs',
    defaultText: '10s',
    help: 'how long an open breaker keeps its backend out before one probe request is let through',
    parse: parseDuration,
  }),
  flag({
    name: 'shutdown-timeout',
    key: 'shutdownTimeoutMs',
    defaultText: '30s',
    help: 'on SIGTERM/SIGINT, how long requests in flight may take to finish before the gateway exits',
    parse: parseDuration,
  }),
  flag({
    name: 'max-sockets-per-backend',
    key: 'maxSocketsPerBackend',
    defaultText: '256',
    help: 'most connections open at once to one backend (kept alive and reused); more requests wait',
    parse: parsePositiveWholeNumber,
  }),
  flag({
    name: 'proxy-engine',
    key: 'proxyEngine',
    defaultText: 'undici',
    help: 'the library that talks to backends: undici (the fastest, see README) or http-proxy-middleware (Node http client)',
    parse: parseChoice(['undici', 'http-proxy-middleware'] as const),
  }),
  flag({
    name: 'retries',
    key: 'retries',
    defaultText: '2',
    help: 'times a failed request may be tried again (idempotent requests; others only when refused)',
    parse: parseWholeNumber,
  }),
  flag({
    name: 'retry-buffer',
    key: 'retryBufferBytes',
    defaultText: '64KiB',
    help: 'largest request body kept for a retry (bytes, or with KiB/MiB); larger bodies are sent once',
    parse: parseByteSize,
  }),
  flag({
    name: 'try-timeout',
    key: 'tryTimeoutMs',
    defaultText: '',
    defaultHelp: 'the --write-timeout',
    help: "longest wait for one try's response headers before it is retried elsewhere",
    parse: parseOptional(parseDuration),
  }),
  flag({
    name: 'health-check-interval',
    key: 'healthCheckIntervalMs',
    defaultText: '5s',
    help: 'time between active health checks of each backend; 0 turns them off',
    parse: parseDuration,
  }),
  flag({
    name: 'health-check-path',
    key: 'healthCheckPath',
    defaultText: '/',
    help: 'path the health checks GET on each backend (2xx and 3xx are healthy)',
    parse: parsePath,
  }),
  flag({
    name: 'health-check-timeout',
    key: 'healthCheckTimeoutMs',
    defaultText: '2s',
    help: 'longest a health check may take',
    parse: parseDuration,
  }),
  flag({
    name: 'health-check-fall',
    key: 'healthCheckFall',
    defaultText: '2',
    help: 'failed health checks in a row that take a backend out of rotation',
    parse: parsePositiveWholeNumber,
  }),
  flag({
    name: 'health-check-rise',
    key: 'healthCheckRise',
    defaultText: '2',
    help: 'passed health checks in a row that put it back',
    parse: parsePositiveWholeNumber,
  }),
  flag({
    name: 'max-inflight-per-backend',
    key: 'maxInflightPerBackend',
    defaultText: '0',
    help: 'most requests in flight to one backend; over it the next is tried, all full -> 503; 0 means no cap',
    parse: parseWholeNumber,
  }),
  flag({
    name: 'drain-delay',
    key: 'drainDelayMs',
    defaultText: '0s',
    help: 'on SIGTERM, how long requests are still served (readiness already 503) before the listener closes',
    parse: parseDuration,
  }),
  flag({
    name: 'admin-listen',
    key: 'adminListen',
    defaultText: '',
    defaultHelp: 'unset: on --listen',
    help: 'serve /health, /health/ready, /metrics and /status on this address instead (they are then proxied on --listen)',
    parse: parseOptional(parseListenAddress),
  }),
  flag({
    name: 'admin-token',
    key: 'adminToken',
    defaultText: '',
    defaultHelp: 'unset: no admin API',
    secret: true,
    help: 'bearer token of the admin API on --admin-listen (/admin/services: list, add, drain and remove backends); prefer the variable, which ps does not show',
    parse: parseOptional(parseAdminToken),
  }),
  flag({
    name: 'log-level',
    key: 'logLevel',
    defaultText: 'info',
    help: 'debug, info, warn or error (access-log lines are info)',
    parse: parseChoice(['debug', 'info', 'warn', 'error'] as const),
  }),
  flag({
    name: 'access-log',
    key: 'accessLog',
    defaultText: 'true',
    help: 'write one JSON line per proxied request to stdout',
    boolean: true,
    parse: parseBoolean,
  }),
  flag({
    name: 'request-ids',
    key: 'requestIds',
    defaultText: 'true',
    help: "give every request an X-Request-Id (the client's if usable), to the backend and back; false leaves the header alone",
    boolean: true,
    parse: parseBoolean,
  }),
  flag({
    name: 'trace-context',
    key: 'traceContext',
    defaultText: 'true',
    help: 'keep a valid W3C traceparent or start a trace; false leaves the header alone',
    boolean: true,
    parse: parseBoolean,
  }),
  flag({
    name: 'redis-url',
    key: 'redisUrl',
    defaultText: '',
    defaultHelp: 'unset: state is this process\'s own',
    help: 'share rate limits, breaker openings and health checks with every gateway on this Redis and --redis-prefix, e.g. redis://127.0.0.1:6379/0',
    parse: parseOptional(parseRedisUrl),
  }),
  flag({
    name: 'redis-prefix',
    key: 'redisPrefix',
    defaultText: 'gateway:',
    help: 'prefix of every Redis key; gateways with the same prefix share their state',
    parse: (text) => text,
  }),
  flag({
    name: 'redis-timeout',
    key: 'redisTimeoutMs',
    defaultText: '50ms',
    help: 'longest wait for one Redis call; past it the request is decided locally',
    parse: parsePositiveDuration,
  }),
];

/** The environment variable that can set a flag: `rate-limit` -> `RATE_LIMIT`. */
export function envNameOf(flagName: string): string {
  return flagName.toUpperCase().replaceAll('-', '_');
}

/** The text --help prints. */
export function usage(program = 'gateway'): string {
  const lines = [`Usage: ${program} [flags]`, '', 'Every flag can also be set by the environment variable shown; a flag wins over its variable.', ''];
  for (const spec of FLAGS) {
    const fallback = spec.defaultHelp ?? JSON.stringify(spec.defaultText);
    lines.push(`  --${spec.name}${spec.boolean ? '' : ' value'}   (env ${envNameOf(spec.name)}, default ${fallback})`);
    lines.push(`        ${spec.help}`);
  }
  lines.push('  --help', '        print this help and exit');
  return lines.join('\n');
}
