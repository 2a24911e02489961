import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigFileError, configHash, configJsonSchema, readConfigDocument, resolveConfigDocument, routingFromFlags } from './config-file.js';
import type { GatewayConfig } from './gateway-config.js';
import { parseGatewayConfig } from './parse-gateway-config.js';
import { DEFAULT_SERVICE } from './routing-config.js';

const flags = parseGatewayConfig([], {});
const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A valid document with one service, `users`, given these fields besides its one backend. */
function withService(fields: Record<string, unknown>): unknown {
  return { services: { users: { backends: ['http://127.0.0.1:8080'], ...fields } }, routes: [{ service: 'users' }] };
}

/** A valid document whose one route, to `users`, has these fields besides its service. */
function withRoute(fields: Record<string, unknown>): unknown {
  return { services: { users: { backends: ['http://127.0.0.1:8080'] } }, routes: [{ service: 'users', ...fields }] };
}

function problemsOf(document: unknown): readonly string[] {
  try {
    resolveConfigDocument(document, flags);
  } catch (error) {
    if (error instanceof ConfigFileError) return error.problems;
    throw error;
  }
  throw new Error('the document was accepted');
}

function usersOf(document: unknown, gatewayFlags: GatewayConfig = flags) {
  const users = resolveConfigDocument(document, gatewayFlags).services.get('users');
  if (!users) throw new Error('no users service');
  return users;
}

function onlyRouteOf(document: unknown) {
  return resolveConfigDocument(document, flags).routes[0];
}

describe(resolveConfigDocument.name, () => {
  it.each([
    {
      what: 'a weight that is not a whole number',
      document: withService({ backends: ['http://127.0.0.1:8080', { url: 'http://127.0.0.1:8081', weight: 'x' }] }),
      problems: ['services.users.backends[1].weight: expected a whole number ≥ 1, got "x"'],
    },
    {
      what: 'a fractional weight',
      document: withService({ backends: [{ url: 'http://127.0.0.1:8080', weight: 1.5 }] }),
      problems: ['services.users.backends[0].weight: expected a whole number ≥ 1, got 1.5'],
    },
    {
      what: 'a weight of zero',
      document: withService({ backends: [{ url: 'http://127.0.0.1:8080', weight: 0 }] }),
      problems: ['services.users.backends[0].weight: expected a whole number ≥ 1, got 0'],
    },
    {
      what: 'one backend in two services',
      document: {
        services: { users: { backends: ['http://127.0.0.1:8080'] }, orders: { backends: [{ url: 'http://127.0.0.1:8080/' }] } },
        routes: [{ service: 'users' }],
      },
      problems: ['services.orders.backends[0].url: already a backend of service users (a backend belongs to one service), got "http://127.0.0.1:8080/"'],
    },
    {
      what: 'a route naming a service that is not in services',
      document: withRoute({ service: 'orders' }),
      problems: ['routes[0].service: no service "orders" in services, got "orders"'],
    },
    {
      what: 'a duration without a unit',
      document: withService({ breaker: { cooldown: '10' } }),
      problems: ['services.users.breaker.cooldown: expected a duration such as 5s or 1m30s, got "10"'],
    },
    {
      what: 'a duration written as a number other than 0',
      document: withService({ writeTimeout: 10 }),
      problems: ['services.users.writeTimeout: expected a duration such as 5s or 1m30s, got 10'],
    },
    {
      what: 'a negative duration',
      document: withService({ healthCheck: { timeout: '-1s' } }),
      problems: ['services.users.healthCheck.timeout: expected a duration such as 5s or 1m30s, got "-1s"'],
    },
    {
      what: 'a DNS refresh of zero',
      document: withService({ dnsRefresh: '0s' }),
      problems: ['services.users.dnsRefresh: expected a duration above zero, such as 5s, got "0s"'],
    },
    {
      what: 'a backend that is not http or https',
      document: withService({ backends: ['ftp://127.0.0.1:8080'] }),
      problems: ['services.users.backends[0]: only http:// and https:// backends are supported, got "ftp://127.0.0.1:8080"'],
    },
    {
      what: 'a backend URL with credentials',
      document: withService({ backends: [{ url: 'http://user:secret@127.0.0.1:8080' }] }),
      problems: ['services.users.backends[0].url: credentials are not supported in a backend URL, got "http://user:secret@127.0.0.1:8080"'],
    },
    {
      what: 'a backend URL with a query',
      document: withService({ backends: ['http://127.0.0.1:8080/?debug=1'] }),
      problems: ['services.users.backends[0]: a backend URL cannot have a query or fragment, got "http://127.0.0.1:8080/?debug=1"'],
    },
    {
      what: 'a backend that is not a URL',
      document: withService({ backends: ['127.0.0.1:8080 '] }),
      problems: ['services.users.backends[0]: expected a backend URL such as http://127.0.0.1:8080, got "127.0.0.1:8080 "'],
    },
    {
      what: 'two backends in one entry',
      document: withService({ backends: ['http://a:8080,http://b:8080'] }),
      problems: ['services.users.backends[0]: expected a backend URL such as http://127.0.0.1:8080, got "http://a:8080,http://b:8080"'],
    },
    {
      what: 'a backend that is neither a URL nor a mapping',
      document: withService({ backends: [8080] }),
      problems: ['services.users.backends[0]: expected a backend URL such as http://127.0.0.1:8080, or a mapping of url, weight, drained, got 8080'],
    },
    {
      what: 'the same backend listed twice',
      document: withService({ backends: ['http://127.0.0.1:8080', 'http://127.0.0.1:8081', 'HTTP://127.0.0.1:8080/'] }),
      problems: ['services.users.backends[2]: the same backend as backends[0], got "HTTP://127.0.0.1:8080/"'],
    },
    {
      what: 'the same backend listed twice, once as a mapping',
      document: withService({ backends: ['http://127.0.0.1:8080', { url: 'http://127.0.0.1:8080', weight: 2 }] }),
      problems: ['services.users.backends[1].url: the same backend as backends[0], got "http://127.0.0.1:8080"'],
    },
    {
      what: 'a service without backends',
      document: withService({ backends: [] }),
      problems: ['services.users.backends: expected at least one backend, got []'],
    },
    {
      what: 'a service that leaves backends out',
      document: { services: { users: { retries: 1 } }, routes: [{ service: 'users' }] },
      problems: ['services.users.backends: expected a list of backends, got nothing'],
    },
    {
      what: 'an unknown key in a service',
      document: withService({ retrys: 3 }),
      problems: [
        'services.users.retrys: unknown key; expected one of backends, balance, hashOn, boundedLoad, sticky, slowStart, retries, writeTimeout, tryTimeout, maxInflightPerBackend, maxSocketsPerBackend, breaker, healthCheck, resolve, dnsRefresh, got 3',
      ],
    },
    {
      what: 'an unknown key in a breaker',
      document: withService({ breaker: { threshold: 5 } }),
      problems: ['services.users.breaker.threshold: unknown key; expected one of failures, cooldown, statuses, got 5'],
    },
    {
      what: 'an unknown key at the top',
      document: { ...(withService({}) as object), listen: ':3000' },
      problems: ['listen: unknown key; expected one of services, routes, got ":3000"'],
    },
    {
      what: 'a balancing strategy that does not exist',
      document: withService({ balance: 'random' }),
      problems: ['services.users.balance: expected one of round-robin, least-request, consistent-hash, got "random"'],
    },
    {
      what: 'a status that is not an HTTP status',
      document: withService({ breaker: { statuses: [502, 99] } }),
      problems: ['services.users.breaker.statuses[1]: expected an HTTP status from 100 to 599, got 99'],
    },
    {
      what: 'a health check path without its leading slash',
      document: withService({ healthCheck: { path: 'healthz' } }),
      problems: ['services.users.healthCheck.path: expected a path starting with /, such as /healthz, got "healthz"'],
    },
    {
      what: 'a service name that cannot be a label value',
      document: { services: { 'user service': { backends: ['http://127.0.0.1:8080'] } }, routes: [{ service: 'users' }] },
      problems: [
        'services["user service"]: expected a service name of letters, digits, ., _ and -, got "user service"',
        'routes[0].service: no service "users" in services, got "users"',
      ],
    },
    {
      what: 'a host with a port',
      document: withRoute({ match: { host: 'api.example.com:8080' } }),
      problems: ['routes[0].match.host: expected a host name such as api.example.com or *.example.com, without scheme or port, got "api.example.com:8080"'],
    },
    {
      what: 'a host with a scheme',
      document: withRoute({ match: { host: 'https://api.example.com' } }),
      problems: ['routes[0].match.host: expected a host name such as api.example.com or *.example.com, without scheme or port, got "https://api.example.com"'],
    },
    {
      what: 'a wildcard that is not the first label',
      document: withRoute({ match: { host: 'api.*.example.com' } }),
      problems: ['routes[0].match.host: expected a host name such as api.example.com or *.example.com, without scheme or port, got "api.*.example.com"'],
    },
    {
      what: 'a wildcard that is only part of the first label',
      document: withRoute({ match: { host: 'api-*.example.com' } }),
      problems: ['routes[0].match.host: expected a host name such as api.example.com or *.example.com, without scheme or port, got "api-*.example.com"'],
    },
    {
      what: 'a path prefix without its leading slash',
      document: withRoute({ match: { pathPrefix: 'users' } }),
      problems: ['routes[0].match.pathPrefix: expected a path prefix starting with /, such as /users, got "users"'],
    },
    {
      what: 'a method that is not a token',
      document: withRoute({ match: { methods: ['GET', 'GET POST'] } }),
      problems: ['routes[0].match.methods[1]: expected a method such as GET, got "GET POST"'],
    },
    {
      what: 'an empty list of methods',
      document: withRoute({ match: { methods: [] } }),
      problems: ['routes[0].match.methods: expected at least one method (leave methods out to match any), got []'],
    },
    {
      what: 'a header value written as a number',
      document: withRoute({ match: { headers: { 'X-Version': 2 } } }),
      problems: ['routes[0].match.headers.X-Version: expected a string; write it in quotes: "2", got 2'],
    },
    {
      what: 'a header name that is not a token',
      document: withRoute({ match: { headers: { 'X Version': '2' } } }),
      problems: ['routes[0].match.headers["X Version"]: expected a header name such as X-Version, got "X Version"'],
    },
    {
      what: 'one header named twice in different cases',
      document: withRoute({ match: { headers: { 'X-Version': '2', 'x-version': '3' } } }),
      problems: ['routes[0].match.headers.x-version: the same header as X-Version, got "3"'],
    },
    {
      what: 'a stripPrefix that is not a boolean',
      document: withRoute({ stripPrefix: 'yes' }),
      problems: ['routes[0].stripPrefix: expected true or false, got "yes"'],
    },
    {
      what: 'a negative rate limit',
      document: withRoute({ rateLimit: -1 }),
      problems: ['routes[0].rateLimit: expected a whole number ≥ 0, got -1'],
    },
    {
      what: 'a file without services',
      document: { services: {}, routes: [{ service: 'users' }] },
      problems: ['services: expected at least one service, got {}', 'routes[0].service: no service "users" in services, got "users"'],
    },
    {
      what: 'a file without routes',
      document: { services: { users: { backends: ['http://127.0.0.1:8080'] } }, routes: [] },
      problems: ['routes: expected at least one route (without one every request is answered 404), got []'],
    },
    {
      what: 'a document that is not a mapping',
      document: ['services', 'routes'],
      problems: ['the file: expected a mapping of services, routes, got ["services","routes"]'],
    },
    {
      what: 'a long value, shortened in the message',
      document: withService({ tryTimeout: 'x'.repeat(100) }),
      problems: [`services.users.tryTimeout: expected a duration such as 5s or 1m30s, got "${'x'.repeat(59)}…`],
    },
    {
      what: 'consistent-hash without a key',
      document: withService({ balance: 'consistent-hash' }),
      problems: ['services.users.hashOn: consistent-hash needs a key (or --hash-on): expected header:<name>, cookie:<name>, client-ip or path, got nothing'],
    },
    {
      what: 'a hash key of no known kind',
      document: withService({ balance: 'consistent-hash', hashOn: 'query:id' }),
      problems: ['services.users.hashOn: expected header:<name>, cookie:<name>, client-ip or path, got "query:id"'],
    },
    {
      what: 'a hash key without its header name',
      document: withService({ balance: 'consistent-hash', hashOn: 'header:' }),
      problems: ['services.users.hashOn: expected a header name after "header:", such as X-User-Id, got "header:"'],
    },
    {
      what: 'a hash key for a service that does not hash',
      document: withService({ balance: 'least-request', hashOn: 'client-ip' }),
      problems: ['services.users.hashOn: a key for consistent-hash, but balance is least-request, got "client-ip"'],
    },
    {
      what: 'a load bound for a service that does not hash',
      document: withService({ boundedLoad: 1.5 }),
      problems: ['services.users.boundedLoad: a bound of consistent-hash, but balance is round-robin, got 1.5'],
    },
    {
      what: 'a load bound that no backend could keep',
      document: withService({ balance: 'consistent-hash', hashOn: 'path', boundedLoad: 1 }),
      problems: ['services.users.boundedLoad: expected a number above 1, such as 1.25, got 1'],
    },
    {
      what: 'slow start on a service that hashes',
      document: withService({ balance: 'consistent-hash', hashOn: 'path', slowStart: '30s' }),
      problems: ['services.users.slowStart: slow start ramps round-robin and least-request; consistent-hash keeps each key on its backend, got "30s"'],
    },
    {
      what: 'sticky sessions without a cookie name',
      document: withService({ sticky: { secure: true } }),
      problems: ["services.users.sticky.cookie: expected a cookie name: letters, digits and !#$%&'*+-.^_`|~, got nothing"],
    },
    {
      what: 'a SameSite that is not one',
      document: withService({ sticky: { cookie: 'srv', sameSite: 'lax' } }),
      problems: ['services.users.sticky.sameSite: expected one of Strict, Lax, None, got "lax"'],
    },
    {
      what: 'SameSite=None on a cookie that is not Secure',
      document: withService({ sticky: { cookie: 'srv', sameSite: 'None' } }),
      problems: ['services.users.sticky.sameSite: SameSite=None needs secure: true (browsers drop the cookie otherwise), got "None"'],
    },
    {
      what: 'one sticky cookie for two services',
      document: {
        services: { users: { backends: ['http://127.0.0.1:8080'], sticky: { cookie: 'srv' } }, orders: { backends: ['http://127.0.0.1:8081'], sticky: { cookie: 'srv' } } },
        routes: [{ service: 'users' }],
      },
      problems: ['services.orders.sticky.cookie: already the sticky cookie of service users: give each service its own, got "srv"'],
    },
  ])('refuses $what', ({ document, problems }) => {
    expect(problemsOf(document)).toEqual(problems);
  });

  it('reports two problems in one file as two lines of one error', () => {
    const document = { services: { users: { backends: [{ url: 'http://127.0.0.1:8080', weight: 'x' }] } }, routes: [{ service: 'orders' }] };
    const expected = ['services.users.backends[0].weight: expected a whole number ≥ 1, got "x"', 'routes[0].service: no service "orders" in services, got "orders"'];

    expect(() => resolveConfigDocument(document, flags)).toThrow(new ConfigFileError(expected));
    expect(problemsOf(document)).toEqual(expected);
  });

  it('fills every setting a service leaves out from the flags', () => {
    const custom = parseGatewayConfig(
      ['--balance=least-request', '--slow-start=30s', '--retries=4', '--write-timeout=7s', '--try-timeout=3s', '--max-inflight-per-backend=9', '--max-sockets-per-backend=12', '--breaker-failures=6', '--breaker-cooldown=20s', '--breaker-statuses=500', '--health-check-interval=8s', '--health-check-path=/ping', '--health-check-timeout=1s', '--health-check-fall=4', '--health-check-rise=5'],
      {},
    );

    expect(usersOf(withService({}), custom).settings).toEqual({
      balance: 'least-request',
      hashOn: undefined,
      boundedLoad: undefined,
      sticky: undefined,
      slowStartMs: 30_000,
      retries: 4,
      writeTimeoutMs: 7_000,
      tryTimeoutMs: 3_000,
      maxInflightPerBackend: 9,
      maxSocketsPerBackend: 12,
      breaker: { failures: 6, cooldownMs: 20_000, statuses: new Set([500]) },
      healthCheck: { intervalMs: 8_000, path: '/ping', timeoutMs: 1_000, fall: 4, rise: 5 },
      resolve: false,
      dnsRefreshMs: 5_000,
    });
  });

  it('takes what the file sets and the rest of a nested setting from the flags', () => {
    const settings = usersOf(withService({ retries: 0, tryTimeout: '1m30s', breaker: { failures: 2, statuses: [] }, healthCheck: { interval: 0 }, resolve: true, dnsRefresh: '30s' })).settings;

    expect(settings).toMatchObject({ retries: 0, tryTimeoutMs: 90_000, resolve: true, dnsRefreshMs: 30_000 });
    expect(settings.breaker).toEqual({ failures: 2, cooldownMs: flags.breakerCooldownMs, statuses: new Set() });
    expect(settings.healthCheck).toEqual({ intervalMs: 0, path: flags.healthCheckPath, timeoutMs: flags.healthCheckTimeoutMs, fall: flags.healthCheckFall, rise: flags.healthCheckRise });
  });

  it.each([
    {
      what: 'a hashing service, with its key and bound',
      service: { balance: 'consistent-hash', hashOn: 'header:X-User-Id', boundedLoad: 1.25 },
      flags: [],
      settings: { balance: 'consistent-hash', hashOn: { kind: 'header', name: 'x-user-id' }, boundedLoad: 1.25, slowStartMs: 0 },
    },
    {
      what: 'a hashing service, with the key of --hash-on and no slow start from --slow-start',
      service: { balance: 'consistent-hash' },
      flags: ['--config=g.yaml', '--hash-on=cookie:session', '--slow-start=30s'],
      settings: { balance: 'consistent-hash', hashOn: { kind: 'cookie', name: 'session' }, slowStartMs: 0 },
    },
    {
      what: 'a service that does not hash, leaving --hash-on to those that do',
      service: { balance: 'least-request', slowStart: '10s' },
      flags: ['--config=g.yaml', '--hash-on=client-ip'],
      settings: { balance: 'least-request', hashOn: undefined, slowStartMs: 10_000 },
    },
    {
      what: 'sticky sessions, attributes defaulted',
      service: { sticky: { cookie: 'srv' } },
      flags: [],
      settings: { sticky: { cookie: 'srv', secure: false, httpOnly: true, sameSite: 'Lax' } },
    },
  ])('resolves $what', ({ service, flags: serviceFlags, settings }) => {
    expect(usersOf(withService(service), parseGatewayConfig(serviceFlags, {})).settings).toMatchObject(settings);
  });

  it('keeps --sticky-cookie and --balance when the flags\' own document is resolved again (as an admin API change does)', () => {
    const gatewayFlags = parseGatewayConfig(['--sticky-cookie=srv', '--balance=least-request', '--slow-start=5s'], {});
    const routing = routingFromFlags(gatewayFlags);
    const again = resolveConfigDocument(routing.document, gatewayFlags);

    expect(again.services.get(DEFAULT_SERVICE)!.settings).toEqual(routing.services.get(DEFAULT_SERVICE)!.settings);
    expect(routing.services.get(DEFAULT_SERVICE)!.settings).toMatchObject({ balance: 'least-request', slowStartMs: 5_000, sticky: { cookie: 'srv' } });
  });

  it('takes resolve and dnsRefresh from the flags once they carry them', () => {
    const withDnsFlags = { ...flags, resolveBackends: true, dnsRefreshMs: 1_000 } as GatewayConfig;

    expect(usersOf(withService({}), withDnsFlags).settings).toMatchObject({ resolve: true, dnsRefreshMs: 1_000 });
  });

  it('gives a bare URL weight 1 and drops trailing slashes', () => {
    const users = usersOf(withService({ backends: ['http://127.0.0.1:8080/', { url: 'http://127.0.0.1:8081/api/', weight: 3 }, { url: 'https://127.0.0.1:8443' }] }));

    expect(users.backends).toEqual([
      { url: 'http://127.0.0.1:8080', weight: 1, drained: false },
      { url: 'http://127.0.0.1:8081/api', weight: 3, drained: false },
      { url: 'https://127.0.0.1:8443', weight: 1, drained: false },
    ]);
  });

  it('gives a route without match every request, unstripped, at the gateway rate limit', () => {
    expect(onlyRouteOf(withRoute({}))).toEqual({
      host: undefined,
      pathPrefix: '/',
      methods: undefined,
      headers: [],
      service: 'users',
      stripPrefix: false,
      rateLimitPerSecond: undefined,
      index: 0,
    });
  });

  it('reads every condition of a match, upper-casing methods and lower-casing header names', () => {
    const route = onlyRouteOf(withRoute({ match: { host: 'api.example.com', pathPrefix: '/users', methods: ['get', 'POST'], headers: { 'X-Version': '2' } }, stripPrefix: true, rateLimit: 50 }));

    expect(route).toEqual({
      host: 'api.example.com',
      pathPrefix: '/users',
      methods: new Set(['GET', 'POST']),
      headers: [{ name: 'x-version', value: '2' }],
      service: 'users',
      stripPrefix: true,
      rateLimitPerSecond: 50,
      index: 0,
    });
  });

  it.each([
    ['API.Example.COM', 'api.example.com'],
    ['*.Example.com', '*.example.com'],
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', 'localhost'],
  ])('lower-cases the host %j to %j, a wildcard as the whole first label accepted', (host, expected) => {
    expect(onlyRouteOf(withRoute({ match: { host } })).host).toBe(expected);
  });

  it.each([
    ['/users/', '/users'],
    ['/users//', '/users'],
    ['/', '/'],
    ['//', '/'],
    ['/api/v1', '/api/v1'],
  ])('reads the path prefix %j as %j', (pathPrefix, expected) => {
    expect(onlyRouteOf(withRoute({ match: { pathPrefix } })).pathPrefix).toBe(expected);
  });

  it('numbers routes by their position in the file', () => {
    const document = { services: { users: { backends: ['http://127.0.0.1:8080'] } }, routes: [{ service: 'users', match: { pathPrefix: '/a' } }, { service: 'users' }] };

    expect(resolveConfigDocument(document, flags).routes.map((route) => [route.pathPrefix, route.index])).toEqual([
      ['/a', 0],
      ['/', 1],
    ]);
  });

  it('keeps services by name in the order of the file', () => {
    const document = { services: { orders: { backends: ['http://127.0.0.1:8081'] }, users: { backends: ['http://127.0.0.1:8080'] } }, routes: [{ service: 'users' }] };

    expect([...resolveConfigDocument(document, flags).services.keys()]).toEqual(['orders', 'users']);
  });

  it('stamps the routing with the hash of the document', () => {
    const document = withService({});

    expect(resolveConfigDocument(document, flags).hash).toBe(configHash(document));
  });

  it('accepts gateway.example.yaml', () => {
    const routing = resolveConfigDocument(readConfigDocument(join(REPO_ROOT, 'gateway.example.yaml')), flags);

    expect([...routing.services.keys()]).toEqual(['users', 'orders']);
    expect(routing.routes.some((route) => route.stripPrefix && route.rateLimitPerSecond !== undefined)).toBe(true);
  });
});

describe(readConfigDocument.name, () => {
  const directory = mkdtempSync(join(tmpdir(), 'config-file-spec-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function fileWith(name: string, text: string): string {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  }

  const expected = { services: { users: { backends: ['http://127.0.0.1:8080'] } }, routes: [{ service: 'users' }] };

  it.each([
    ['gateway.yaml', 'services:\n  users:\n    backends: [http://127.0.0.1:8080]\nroutes:\n  - service: users\n'],
    ['gateway.yml', 'services: { users: { backends: [ "http://127.0.0.1:8080" ] } }\nroutes: [ { service: users } ]\n'],
    ['gateway.json', JSON.stringify(expected)],
    ['gateway.conf', JSON.stringify(expected)],
  ])('reads %s', (name, text) => {
    expect(readConfigDocument(fileWith(name, text))).toEqual(expected);
  });

  it('lets services share settings through YAML merge keys', () => {
    const text = 'services:\n  users:\n    backends: [http://127.0.0.1:8080]\n    breaker: &strict { failures: 2 }\n  orders:\n    backends: [http://127.0.0.1:8081]\n    breaker: { <<: *strict, cooldown: 1m }\n';

    expect(readConfigDocument(fileWith('merge.yaml', text))).toMatchObject({ services: { orders: { breaker: { failures: 2, cooldown: '1m' } } } });
  });

  it.each([
    ['empty.yaml', ''],
    ['comments.yaml', '# nothing yet\n\n'],
    ['empty.json', '  \n'],
  ])('refuses the empty file %s', (name, text) => {
    expect(() => readConfigDocument(fileWith(name, text))).toThrow(new ConfigFileError(['the file is empty: expected services and routes']));
  });

  it.each([
    ['broken.json', '{"services": ', /^not JSON: /],
    ['broken.yaml', 'services: [unclosed\n', /^not YAML or JSON: /],
  ])('refuses %s, which does not parse', (name, text, message) => {
    expect(() => readConfigDocument(fileWith(name, text))).toThrow(message);
  });

  it('refuses a file that is not there, saying why', () => {
    expect(() => readConfigDocument(join(directory, 'missing.yaml'))).toThrow(/ENOENT/);
  });
});

describe(configHash.name, () => {
  it('is 16 hex digits, the same whatever the order of keys', () => {
    const hash = configHash({ services: { users: { retries: 1, backends: ['http://a'] } }, routes: [{ service: 'users' }] });

    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash({ routes: [{ service: 'users' }], services: { users: { backends: ['http://a'], retries: 1 } } })).toBe(hash);
  });

  it('changes when a value changes, or the order of a list', () => {
    const hash = configHash({ services: { users: { backends: ['http://a', 'http://b'], retries: 1 } } });

    expect(configHash({ services: { users: { backends: ['http://a', 'http://b'], retries: 2 } } })).not.toBe(hash);
    expect(configHash({ services: { users: { backends: ['http://b', 'http://a'], retries: 1 } } })).not.toBe(hash);
  });
});

describe(routingFromFlags.name, () => {
  it('describes one default service with the flags and one catch-all route to it', () => {
    const fromFlags = parseGatewayConfig(['--backends=http://a:8080,http://b:8080', '--retries=3'], {});
    const routing = routingFromFlags(fromFlags);

    expect([...routing.services.keys()]).toEqual([DEFAULT_SERVICE]);
    expect(routing.services.get(DEFAULT_SERVICE)).toEqual({
      name: DEFAULT_SERVICE,
      backends: [
        { url: 'http://a:8080', weight: 1, drained: false },
        { url: 'http://b:8080', weight: 1, drained: false },
      ],
      settings: usersOf(withService({}), fromFlags).settings,
    });
    expect(routing.routes).toEqual([{ host: undefined, pathPrefix: '/', methods: undefined, headers: [], service: DEFAULT_SERVICE, stripPrefix: false, rateLimitPerSecond: undefined, index: 0 }]);
  });

  it('hashes the document the flags stand for', () => {
    const routing = routingFromFlags(flags);

    expect(routing.hash).toBe(configHash({ services: { [DEFAULT_SERVICE]: { backends: [...flags.backends] } }, routes: [{ service: DEFAULT_SERVICE }] }));
    expect(resolveConfigDocument({ services: { [DEFAULT_SERVICE]: { backends: [...flags.backends] } }, routes: [{ service: DEFAULT_SERVICE }] }, flags)).toEqual(routing);
  });
});

describe(configJsonSchema.name, () => {
  it('is what gateway.schema.json holds (regenerate the file when the schema changes)', () => {
    const committed: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'gateway.schema.json'), 'utf8'));

    expect(committed).toEqual(configJsonSchema());
  });

  it('is named at the top of gateway.example.yaml, for editors', () => {
    expect(readFileSync(join(REPO_ROOT, 'gateway.example.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./gateway.schema.json');
  });
});
