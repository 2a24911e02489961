import { describe, expect, it } from 'vitest';
import { ConfigError, HelpRequested } from './config.error.js';
import { envNameOf, FLAGS, usage } from './flags.js';
import type { GatewayConfig } from './gateway-config.js';
import { parseGatewayConfig } from './parse-gateway-config.js';

type Env = Record<string, string | undefined>;

/** Runs the parser and returns what it threw, failing the test when it threw nothing. */
function thrownBy(argv: readonly string[], env: Env = {}): unknown {
  try {
    parseGatewayConfig(argv, env);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${JSON.stringify(argv)} with ${JSON.stringify(env)} to throw`);
}

describe(parseGatewayConfig.name, () => {
  describe('defaults', () => {
    const config = parseGatewayConfig([], {});

    it.each<[keyof GatewayConfig, unknown]>([
      ['listen', { host: undefined, port: 3000 }],
      ['workers', 1],
      ['readTimeoutMs', 5_000],
      ['writeTimeoutMs', 10_000],
      ['rateLimitPerSecond', 100],
      ['rateLimitScope', 'client'],
      ['trustProxy', { kind: 'none' }],
      ['backends', ['http://localhost:8080']],
      ['breakerFailures', 5],
      ['breakerStatuses', new Set([502, 503, 504])],
      ['breakerCooldownMs', 10_000],
      ['shutdownTimeoutMs', 30_000],
      ['maxSocketsPerBackend', 256],
      ['proxyEngine', 'undici'],
      ['retries', 2],
      ['retryBufferBytes', 65_536],
      ['tlsCertPath', undefined],
      ['tlsKeyPath', undefined],
      ['tlsMinVersion', 'TLSv1.2'],
      ['tlsClientCaPath', undefined],
      ['tlsClientAuth', 'required'],
      ['hsts', 'max-age=31536000'],
      ['securityHeaders', true],
      ['upstreamCaPath', undefined],
      ['upstreamCertPath', undefined],
      ['upstreamKeyPath', undefined],
      ['upstreamInsecure', false],
      ['apiKeysPath', undefined],
      ['maxBodyBytes', 10 * 1_048_576],
      ['maxHeaderBytes', 16_384],
      ['allowedMethods', { any: false, listed: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] }],
      ['allowedContentTypes', []],
      ['tryTimeoutMs', undefined],
      ['healthCheckIntervalMs', 5_000],
      ['healthCheckPath', '/'],
      ['healthCheckTimeoutMs', 2_000],
      ['healthCheckFall', 2],
      ['healthCheckRise', 2],
      ['maxInflightPerBackend', 0],
      ['drainDelayMs', 0],
      ['adminListen', undefined],
      ['logLevel', 'info'],
      ['accessLog', true],
      ['requestIds', true],
      ['traceContext', true],
      ['redisUrl', undefined],
      ['redisPrefix', 'gateway:'],
      ['redisTimeoutMs', 50],
    ])('defaults %s to %j', (key, value) => {
      expect(config[key]).toEqual(value);
    });

    it('has no fields beyond the flags', () => {
      expect(Object.keys(config).sort()).toEqual(FLAGS.map((spec) => spec.key).sort());
    });
  });

  it.each([
    [['--listen=:4000']],
    [['--listen', ':4000']],
    [['-listen=:4000']],
    [['-listen', ':4000']],
  ])('accepts Go flag syntax %j', (argv) => {
    expect(parseGatewayConfig(argv, {}).listen).toEqual({ host: undefined, port: 4000 });
  });

  it.each([
    ['127.0.0.1:4000', { host: '127.0.0.1', port: 4000 }],
    ['localhost:4000', { host: 'localhost', port: 4000 }],
    ['[::1]:4000', { host: '::1', port: 4000 }],
    [':0', { host: undefined, port: 0 }],
  ])('reads --listen=%s as %j', (text, listen) => {
    expect(parseGatewayConfig([`--listen=${text}`], {}).listen).toEqual(listen);
  });

  it.each([
    [['--trust-proxy'], { kind: 'hops', hops: 1 }],
    [['-trust-proxy'], { kind: 'hops', hops: 1 }],
    [['--trust-proxy=true'], { kind: 'hops', hops: 1 }],
    [['--trust-proxy=1'], { kind: 'hops', hops: 1 }],
    [['--trust-proxy=2'], { kind: 'hops', hops: 2 }],
    [['--trust-proxy=false'], { kind: 'none' }],
    [['--trust-proxy=F'], { kind: 'none' }],
    [['--trust-proxy=0'], { kind: 'none' }],
    [['--trust-proxy=10.0.0.0/8, fd00::/8,192.0.2.7'], { kind: 'addresses', cidrs: ['10.0.0.0/8', 'fd00::/8', '192.0.2.7'] }],
  ])('reads --trust-proxy %j as %j', (argv, value) => {
    expect(parseGatewayConfig(argv, {}).trustProxy).toEqual(value);
  });

  it.each<[string, string, keyof GatewayConfig, unknown]>([
    ['LISTEN', '127.0.0.1:9000', 'listen', { host: '127.0.0.1', port: 9000 }],
    ['READ_TIMEOUT', '1m30s', 'readTimeoutMs', 90_000],
    ['WRITE_TIMEOUT', '250ms', 'writeTimeoutMs', 250],
    ['RATE_LIMIT', '7', 'rateLimitPerSecond', 7],
    ['RATE_LIMIT_SCOPE', 'global', 'rateLimitScope', 'global'],
    ['TRUST_PROXY', 'true', 'trustProxy', { kind: 'hops', hops: 1 }],
    ['BACKENDS', 'http://a:1, http://b:2/', 'backends', ['http://a:1', 'http://b:2']],
    ['BREAKER_FAILURES', '3', 'breakerFailures', 3],
    ['BREAKER_COOLDOWN', '500ms', 'breakerCooldownMs', 500],
    ['BREAKER_STATUSES', '500,503', 'breakerStatuses', new Set([500, 503])],
    ['SHUTDOWN_TIMEOUT', '1m', 'shutdownTimeoutMs', 60_000],
    ['ACCESS_LOG', 'false', 'accessLog', false],
    ['BALANCE', 'least-request', 'balance', 'least-request'],
    ['STICKY_COOKIE', 'srv', 'stickyCookie', 'srv'],
    ['SLOW_START', '30s', 'slowStartMs', 30_000],
    ['REQUEST_IDS', 'false', 'requestIds', false],
    ['TRACE_CONTEXT', 'false', 'traceContext', false],
    ['BREAKER_FAILURES', '0', 'breakerFailures', 0],
    ['MAX_SOCKETS_PER_BACKEND', '32', 'maxSocketsPerBackend', 32],
    ['PROXY_ENGINE', 'http-proxy-middleware', 'proxyEngine', 'http-proxy-middleware'],
    ['RETRIES', '0', 'retries', 0],
    ['RETRY_BUFFER', '1MiB', 'retryBufferBytes', 1_048_576],
    ['TLS_MIN_VERSION', 'TLSv1.3', 'tlsMinVersion', 'TLSv1.3'],
    ['HSTS', 'off', 'hsts', undefined],
    ['HSTS', 'max-age=60; includeSubDomains', 'hsts', 'max-age=60; includeSubDomains'],
    ['SECURITY_HEADERS', 'off', 'securityHeaders', false],
    ['MAX_BODY_SIZE', '0', 'maxBodyBytes', 0],
    ['MAX_HEADER_SIZE', '8KiB', 'maxHeaderBytes', 8_192],
    ['ALLOWED_METHODS', 'get, propfind', 'allowedMethods', { any: false, listed: ['GET', 'PROPFIND'] }],
    ['ALLOWED_METHODS', '*', 'allowedMethods', { any: true }],
    ['ALLOWED_CONTENT_TYPES', 'application/json, Text/*', 'allowedContentTypes', ['application/json', 'text/*']],
    ['TRY_TIMEOUT', '750ms', 'tryTimeoutMs', 750],
    ['HEALTH_CHECK_INTERVAL', '0', 'healthCheckIntervalMs', 0],
    ['HEALTH_CHECK_PATH', '/healthz', 'healthCheckPath', '/healthz'],
    ['HEALTH_CHECK_TIMEOUT', '500ms', 'healthCheckTimeoutMs', 500],
    ['HEALTH_CHECK_FALL', '3', 'healthCheckFall', 3],
    ['HEALTH_CHECK_RISE', '4', 'healthCheckRise', 4],
    ['MAX_INFLIGHT_PER_BACKEND', '100', 'maxInflightPerBackend', 100],
    ['DRAIN_DELAY', '5s', 'drainDelayMs', 5_000],
    ['ADMIN_LISTEN', '127.0.0.1:9901', 'adminListen', { host: '127.0.0.1', port: 9901 }],
    ['LOG_LEVEL', 'warn', 'logLevel', 'warn'],
    ['REDIS_URL', 'redis://127.0.0.1:6379/0', 'redisUrl', 'redis://127.0.0.1:6379/0'],
    ['REDIS_PREFIX', 'edge:', 'redisPrefix', 'edge:'],
    ['REDIS_TIMEOUT', '20ms', 'redisTimeoutMs', 20],
  ])('sets %s from its variable (%s=%j)', (variable, text, key, value) => {
    expect(parseGatewayConfig([], { [variable]: text })[key]).toEqual(value);
  });

  it('derives each variable name from its flag name', () => {
    expect(FLAGS.map((spec) => envNameOf(spec.name))).toEqual([
      'LISTEN',
      'WORKERS',
      'READ_TIMEOUT',
      'WRITE_TIMEOUT',
      'RATE_LIMIT',
      'RATE_LIMIT_SCOPE',
      'TRUST_PROXY',
      'TLS_CERT',
      'TLS_KEY',
      'TLS_MIN_VERSION',
      'TLS_CLIENT_CA',
      'TLS_CLIENT_AUTH',
      'HSTS',
      'SECURITY_HEADERS',
      'API_KEYS',
      'MAX_BODY_SIZE',
      'MAX_HEADER_SIZE',
      'ALLOWED_METHODS',
      'ALLOWED_CONTENT_TYPES',
      'BACKENDS',
      'CONFIG',
      'CONFIG_SOURCE',
      'RESOLVE_BACKENDS',
      'DNS_RESOLVER',
      'DNS_REFRESH',
      'BALANCE',
      'HASH_ON',
      'STICKY_COOKIE',
      'SLOW_START',
      'UPSTREAM_CA',
      'UPSTREAM_CERT',
      'UPSTREAM_KEY',
      'UPSTREAM_INSECURE',
      'BREAKER_FAILURES',
      'BREAKER_STATUSES',
      'BREAKER_COOLDOWN',
      'SHUTDOWN_TIMEOUT',
      'MAX_SOCKETS_PER_BACKEND',
      'PROXY_ENGINE',
      'RETRIES',
      'RETRY_BUFFER',
      'TRY_TIMEOUT',
      'HEALTH_CHECK_INTERVAL',
      'HEALTH_CHECK_PATH',
      'HEALTH_CHECK_TIMEOUT',
      'HEALTH_CHECK_FALL',
      'HEALTH_CHECK_RISE',
      'MAX_INFLIGHT_PER_BACKEND',
      'DRAIN_DELAY',
      'ADMIN_LISTEN',
      'ADMIN_TOKEN',
      'LOG_LEVEL',
      'ACCESS_LOG',
      'REQUEST_IDS',
      'TRACE_CONTEXT',
      'REDIS_URL',
      'REDIS_PREFIX',
      'REDIS_TIMEOUT',
    ]);
  });

  it.each<[string[], Env, keyof GatewayConfig, unknown]>([
    [['--rate-limit=5'], { RATE_LIMIT: '50' }, 'rateLimitPerSecond', 5],
    [['--listen', ':4000'], { LISTEN: ':5000' }, 'listen', { host: undefined, port: 4000 }],
    [['--trust-proxy=false'], { TRUST_PROXY: 'true' }, 'trustProxy', { kind: 'none' }],
    [['--backends=http://flag:1'], { BACKENDS: 'http://env:1' }, 'backends', ['http://flag:1']],
  ])('lets the flag %j win over its variable %j', (argv, env, key, value) => {
    expect(parseGatewayConfig(argv, env)[key]).toEqual(value);
  });

  it.each<[string[], number[]]>([
    [['--breaker-statuses=none'], []],
    [['--breaker-statuses='], []],
    [['--breaker-statuses', ' 502, 504 '], [502, 504]],
    [['--breaker-statuses=429,503'], [429, 503]],
  ])('reads %j as the breaker statuses %j', (argv, statuses) => {
    expect([...parseGatewayConfig(argv, {}).breakerStatuses]).toEqual(statuses);
  });

  it.each([
    [['--listen=:3000', '--admin-listen=127.0.0.1:3001']],
    [['--listen=127.0.0.1:3000', '--admin-listen=127.0.0.2:3000']],
    [['--listen=:0', '--admin-listen=:0']],
  ])('lets the admin endpoints listen beside the proxy on %j', (argv) => {
    expect(() => parseGatewayConfig(argv, {})).not.toThrow();
  });

  it('does not read a bad variable whose flag is given', () => {
    expect(parseGatewayConfig(['--rate-limit=5'], { RATE_LIMIT: 'abc' }).rateLimitPerSecond).toBe(5);
  });

  it.each<[Env, keyof GatewayConfig, unknown]>([
    [{ RATE_LIMIT: '' }, 'rateLimitPerSecond', 100],
    [{ LISTEN: '' }, 'listen', { host: undefined, port: 3000 }],
    [{ BACKENDS: '' }, 'backends', ['http://localhost:8080']],
    [{ TRUST_PROXY: '' }, 'trustProxy', { kind: 'none' }],
    [{ READ_TIMEOUT: undefined }, 'readTimeoutMs', 5_000],
  ])('treats an empty variable as unset: %j', (env, key, value) => {
    expect(parseGatewayConfig([], env)[key]).toEqual(value);
  });

  it.each<[string[], keyof GatewayConfig, unknown]>([
    [['--rate-limit=1', '--rate-limit=2', '-rate-limit', '3'], 'rateLimitPerSecond', 3],
    [['--trust-proxy', '--trust-proxy=false'], 'trustProxy', { kind: 'none' }],
    [['--listen=:1', '--listen=:2'], 'listen', { host: undefined, port: 2 }],
  ])('lets the last repetition of a flag win: %j', (argv, key, value) => {
    expect(parseGatewayConfig(argv, {})[key]).toEqual(value);
  });

  it('never repeats a bad admin token in its error, from the flag or the variable', () => {
    expect(() => parseGatewayConfig(['--admin-token=s3cr3t pass'], {})).toThrow('invalid --admin-token (11 characters, not shown): expected letters, digits');
    expect(() => parseGatewayConfig([], { ADMIN_TOKEN: 'short' })).toThrow('invalid ADMIN_TOKEN (5 characters, not shown): expected at least 16 characters');
    expect(() => parseGatewayConfig([], { ADMIN_TOKEN: 'short' })).not.toThrow(/short"/);
  });

  it('accepts -- as the end of the flags', () => {
    expect(parseGatewayConfig(['--rate-limit=9', '--'], {}).rateLimitPerSecond).toBe(9);
  });

  it('returns a frozen config', () => {
    const config = parseGatewayConfig(['--rate-limit=9'], {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { rateLimitPerSecond: number }).rateLimitPerSecond = 1;
    }).toThrow(TypeError);
  });

  it('freezes the nested backend list and listen address too', () => {
    const config = parseGatewayConfig(['--backends=http://a:1', '--listen=:4000'], {});
    expect(Object.isFrozen(config.backends)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
  });

  it.each<[string, string[], Env, string[], string[]]>([
    ['a bad number flag', ['--rate-limit=abc'], {}, ['--rate-limit', '"abc"'], []],
    ['a bad number variable', [], { RATE_LIMIT: 'abc' }, ['RATE_LIMIT', '"abc"'], ['--rate-limit']],
    ['a non-http backend', ['--backends=ftp://x'], {}, ['--backends', '"ftp://x"'], []],
    ['a bad backend variable', [], { BACKENDS: 'ftp://x' }, ['BACKENDS', '"ftp://x"'], ['--backends']],
    ['a duration without a known unit', ['--read-timeout=5x'], {}, ['--read-timeout', '"5x"'], []],
    ['a bad duration variable', [], { WRITE_TIMEOUT: '10' }, ['WRITE_TIMEOUT', '"10"', 'missing unit'], ['--write-timeout']],
    ['a listen address without a colon', ['--listen=3000'], {}, ['--listen', '"3000"'], []],
    ['a port out of range', ['--listen', ':70000'], {}, ['--listen', '":70000"'], []],
    ['an unknown scope', ['--rate-limit-scope=world'], {}, ['--rate-limit-scope', '"world"', 'client, global'], []],
    ['a bad boolean', ['--trust-proxy=maybe'], {}, ['--trust-proxy', '"maybe"'], []],
    ['a bad boolean given with one dash', ['-trust-proxy=maybe'], {}, ['--trust-proxy', '"maybe"'], []],
    ['an unknown flag', ['--nope'], {}, ['--nope'], []],
    ['an unknown flag with a value', ['--nope=1'], {}, ['--nope'], []],
    ['a positional argument', ['serve'], {}, ['"serve"', 'only flags'], []],
    ['a positional argument after a boolean flag', ['--trust-proxy', 'false'], {}, ['"false"', 'only flags'], []],
    ['an argument after --', ['--', 'extra'], {}, ['"extra"'], []],
    ['a lone dash', ['-'], {}, ['"-"'], []],
    ['a flag without a value', ['--listen'], {}, ['--listen', 'needs a value'], []],
    ['a bad cool-down', ['--breaker-cooldown=soon'], {}, ['--breaker-cooldown', '"soon"'], []],
    ['a status that is not one', ['--breaker-statuses=503,5xx'], {}, ['--breaker-statuses', '"503,5xx"', '"5xx"'], []],
    ['an admin address that is the listen address', ['--listen=:3000', '--admin-listen=127.0.0.1:3000'], {}, ['--admin-listen', '"127.0.0.1:3000"', '--listen', ':3000'], []],
    ['an admin variable that is the listen variable', [], { LISTEN: ':3400', ADMIN_LISTEN: ':3400' }, ['ADMIN_LISTEN', 'LISTEN (:3400)'], ['--listen']],
    ['a size without a known unit', ['--retry-buffer=64 furlongs'], {}, ['--retry-buffer', '"64 furlongs"', '64KiB'], []],
    ['an unknown TLS version', ['--tls-min-version=TLSv1.1'], {}, ['--tls-min-version', '"TLSv1.1"', 'TLSv1.2, TLSv1.3'], []],
    ['a key without a certificate', ['--tls-key=/k.pem'], {}, ['--tls-key', '"/k.pem"', '--tls-cert is needed'], []],
    ['a certificate variable without a key', [], { TLS_CERT: '/c.pem' }, ['TLS_CERT', '"/c.pem"', '--tls-key is needed'], []],
    ['a client CA without HTTPS', ['--tls-client-ca=/ca.pem'], {}, ['--tls-client-ca', '"/ca.pem"', 'need HTTPS'], []],
    ['an unknown client auth mode', ['--tls-client-auth=maybe'], {}, ['--tls-client-auth', 'required, optional'], []],
    ['an upstream certificate without its key', ['--upstream-cert=/c.pem'], {}, ['--upstream-cert', '"/c.pem"', '--upstream-key is needed'], []],
    ['a bad security-headers switch', ['--security-headers=maybe'], {}, ['--security-headers', '"maybe"', 'on or off'], []],
    ['a body limit without a known unit', ['--max-body-size=10 megs'], {}, ['--max-body-size', '"10 megs"'], []],
    ['a zero header limit', ['--max-header-size=0'], {}, ['--max-header-size', '"0"', 'at least 1 byte'], []],
    ['TRACE among the allowed methods', ['--allowed-methods=GET,TRACE'], {}, ['--allowed-methods', '"GET,TRACE"', 'TRACE is never proxied'], []],
    ['CONNECT among the allowed methods variable', [], { ALLOWED_METHODS: 'connect' }, ['ALLOWED_METHODS', 'CONNECT is never proxied'], ['--allowed-methods']],
    ['a method that is not a token', ['--allowed-methods=GET,PO ST'], {}, ['--allowed-methods', '"PO ST"'], []],
    ['a content type without a subtype', ['--allowed-content-types=json'], {}, ['--allowed-content-types', '"json"'], []],
    ['a content type range of any type', ['--allowed-content-types=*/json'], {}, ['--allowed-content-types', '"*/json"'], []],
    ['a relative health check path', ['--health-check-path=healthz'], {}, ['--health-check-path', '"healthz"'], []],
    ['a zero fall count', ['--health-check-fall=0'], {}, ['--health-check-fall', '"0"'], []],
    ['a bad try timeout variable', [], { TRY_TIMEOUT: 'soon' }, ['TRY_TIMEOUT', '"soon"'], ['--try-timeout']],
    ['an unknown log level', ['--log-level=verbose'], {}, ['--log-level', '"verbose"', 'debug, info, warn, error'], []],
    ['a bad admin address', ['--admin-listen=9901'], {}, ['--admin-listen', '"9901"'], []],
    ['no workers', ['--workers=0'], {}, ['--workers', '"0"', 'auto'], []],
    ['a bad workers variable', [], { WORKERS: 'many' }, ['WORKERS', '"many"'], ['--workers']],
    ['an unknown proxy engine', ['--proxy-engine=curl'], {}, ['--proxy-engine', '"curl"', 'undici, http-proxy-middleware'], []],
    ['a bad shutdown timeout variable', [], { SHUTDOWN_TIMEOUT: '30' }, ['SHUTDOWN_TIMEOUT', '"30"'], ['--shutdown-timeout']],
    ['a Redis URL that is not one', ['--redis-url=localhost:6379'], {}, ['--redis-url', '"localhost:6379"', 'redis://'], []],
    ['a Redis URL of another scheme', [], { REDIS_URL: 'http://127.0.0.1:6379' }, ['REDIS_URL', '"http://127.0.0.1:6379"'], ['--redis-url']],
    ['a Redis URL with a path that is no database', ['--redis-url=redis://127.0.0.1:6379/cache'], {}, ['--redis-url', 'database number'], []],
    ['a Redis deadline of zero', ['--redis-timeout=0'], {}, ['--redis-timeout', '"0"', 'above zero'], []],
    ['an unknown strategy', ['--balance=random'], {}, ['--balance', '"random"', 'round-robin, least-request, consistent-hash'], []],
    ['consistent hashing without a key', ['--balance=consistent-hash'], {}, ['--balance', '"consistent-hash"', '--hash-on is needed'], []],
    ['a hashing variable without a key', [], { BALANCE: 'consistent-hash' }, ['BALANCE', '--hash-on is needed'], ['--balance']],
    ['a hash key of no known kind', ['--balance=consistent-hash', '--hash-on=query:id'], {}, ['--hash-on', '"query:id"', 'header:<name>, cookie:<name>, client-ip or path'], []],
    ['a hash key without its cookie name', ['--balance=consistent-hash', '--hash-on=cookie:'], {}, ['--hash-on', '"cookie:"', 'a cookie name'], []],
    ['a hash key without consistent hashing', ['--hash-on=path'], {}, ['--hash-on', '"path"', '--balance is round-robin'], []],
    ['a hash key variable without consistent hashing', ['--balance=least-request'], { HASH_ON: 'header:X-User-Id' }, ['HASH_ON', '"header:x-user-id"', '--balance is least-request'], []],
    ['slow start with consistent hashing', ['--balance=consistent-hash', '--hash-on=path', '--slow-start=30s'], {}, ['--slow-start', '"30s"', 'consistent-hash keeps each key'], []],
    ['a slow start that is no duration', ['--slow-start=slowly'], {}, ['--slow-start', '"slowly"'], []],
    ['a sticky cookie name that cannot be one', ['--sticky-cookie=my cookie'], {}, ['--sticky-cookie', '"my cookie"', 'a cookie name'], []],
    ['a sticky cookie beside a config file', ['--config=g.yaml', '--sticky-cookie=srv'], {}, ['--sticky-cookie', '"srv"', 'with --config', '`sticky`'], []],
  ])('refuses %s (%j %j) with a ConfigError naming it', (_case, argv, env, mentions, absent) => {
    const error = thrownBy(argv, env);
    expect(error).toBeInstanceOf(ConfigError);
    const { message, exitCode } = error as ConfigError;
    for (const text of mentions) expect(message).toContain(text);
    for (const text of absent) expect(message).not.toContain(text);
    expect(exitCode).toBe(2);
  });

  it.each([[['--help']], [['-help']], [['-h']], [['--h']], [['--rate-limit=5', '--help']], [['--help=false']]])(
    'throws HelpRequested with exit code 0 for %j',
    (argv) => {
      const error = thrownBy(argv);
      expect(error).toBeInstanceOf(HelpRequested);
      expect((error as HelpRequested).exitCode).toBe(0);
    },
  );
});

describe(usage.name, () => {
  const text = usage();

  it.each(FLAGS.map((spec) => [spec.name, envNameOf(spec.name), spec.defaultHelp ?? JSON.stringify(spec.defaultText)] as const))(
    'lists --%s with its variable %s and its default %s',
    (name, envName, fallback) => {
      const line = text.split('\n').find((candidate) => candidate.trimStart().startsWith(`--${name} `));
      expect(line).toBeDefined();
      expect(line).toContain(`env ${envName}`);
      expect(line).toContain(`default ${fallback}`);
    },
  );

  it('says which flag a borrowed default comes from', () => {
    expect(text).toMatch(/--try-timeout value\s+\(env TRY_TIMEOUT, default the --write-timeout\)/);
  });

  it('lists --help and names the program', () => {
    expect(text).toContain('--help');
    expect(usage('my-gateway').split('\n')[0]).toBe('Usage: my-gateway [flags]');
  });

  it('shows a value placeholder for every flag but the boolean ones', () => {
    expect(text).toContain('--listen value');
    expect(text).toMatch(/--trust-proxy {3}\(env/);
  });
});
