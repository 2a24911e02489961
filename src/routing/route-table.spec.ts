import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RouteSpec } from '../config/routing-config.js';
import { hostOf, RouteTable } from './route-table.js';

interface RouteOptions {
  service?: string;
  host?: string;
  prefix?: string;
  methods?: string[];
  headers?: Record<string, string>;
  strip?: boolean;
  index?: number;
}

/** A route as the config gives it: every condition off unless the options set it. */
function route({ service = 'svc', host, prefix = '/', methods, headers = {}, strip = false, index = 0 }: RouteOptions = {}): RouteSpec {
  return {
    host,
    pathPrefix: prefix,
    methods: methods === undefined ? undefined : new Set(methods),
    headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
    service,
    stripPrefix: strip,
    rateLimitPerSecond: undefined,
    index,
  };
}

/** The route a request takes and the target forwarded for it, as the proxy asks the table for them. */
function matchOf(table: RouteTable, host: string | undefined, path: string, method: string, headers: IncomingHttpHeaders): { route: RouteSpec; path: string } | undefined {
  const route = table.routeFor(host, path, method, headers);
  return route && { route, path: table.targetOf(route, path) };
}

/** The service of the route a request takes, or undefined when none does. */
function serviceFor(routes: RouteSpec[], host: string | undefined, path = '/', method = 'GET', headers: IncomingHttpHeaders = {}): string | undefined {
  return new RouteTable(routes).routeFor(host, path, method, headers)?.service;
}

describe(hostOf.name, () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['api.example.com', 'api.example.com'],
    ['API.Example.COM', 'api.example.com'],
    ['api.example.com:3000', 'api.example.com'],
    ['api.example.com.', 'api.example.com'],
    ['API.example.com.:8443', 'api.example.com'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[::1]:3000', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    [':3000', undefined],
    ['.', undefined],
  ])('reads Host %j as %j', (header, host) => {
    expect(hostOf(header)).toBe(host);
  });
});

describe(RouteTable.name, () => {
  describe('host', () => {
    it.each([
      ['matches the same host', 'api.example.com', 'api.example.com', true],
      ['matches whatever the case of the Host header', 'api.example.com', 'API.Example.Com', true],
      ['matches a Host header with a port', 'api.example.com', 'api.example.com:3000', true],
      ['matches a Host header with a trailing dot', 'api.example.com', 'api.example.com.', true],
      ['matches a Host header with a trailing dot and a port', 'api.example.com', 'api.example.com.:3000', true],
      ['matches an IPv6 literal with a port', '[::1]', '[::1]:3000', true],
      ['does not match another host', 'api.example.com', 'www.example.com', false],
      ['does not match a host that merely ends with it', 'api.example.com', 'xapi.example.com', false],
      ['does not match a request without a Host header', 'api.example.com', undefined, false],
      ['matches a wildcard one level deep', '*.example.com', 'a.example.com', true],
      ['matches a wildcard two levels deep', '*.example.com', 'a.b.example.com', true],
      ['matches a wildcard whatever the case and port', '*.example.com', 'A.Example.com:8080', true],
      ['does not match a wildcard with its bare domain', '*.example.com', 'example.com', false],
      ['does not match a wildcard with a domain that merely ends like it', '*.example.com', 'badexample.com', false],
      ['matches any host when the route names none', undefined, 'anything.test', true],
      ['matches no Host header when the route names no host', undefined, undefined, true],
    ])('%s (route host %j, Host %j)', (_sentence, routeHost, requestHost, matches) => {
      expect(serviceFor([route({ host: routeHost, prefix: '/api' })], requestHost, '/api')).toBe(matches ? 'svc' : undefined);
    });
  });

  describe('path prefix', () => {
    it.each([
      ['/users', '/users', true],
      ['/users', '/users/', true],
      ['/users', '/users/42', true],
      ['/users', '/users?x=1', true],
      ['/users', '/users/42?x=/admin', true],
      ['/users', '/users2', false],
      ['/users', '/user', false],
      ['/users', '/Users', false],
      ['/users', '/admin?next=/users', false],
      ['/api/v1', '/api/v1/items', true],
      ['/api/v1', '/api/v10', false],
      ['/', '/', true],
      ['/', '/anything/at/all?q=1', true],
    ])('with prefix %j, matches %j on a segment boundary: %s', (prefix, path, matches) => {
      // Two routes, so the single catch-all fast path does not answer for prefix `/`.
      const routes = [route({ prefix }), route({ service: 'other', prefix: '/never', index: 1 })];
      expect(serviceFor(routes, undefined, path)).toBe(matches ? 'svc' : undefined);
    });
  });

  describe('methods', () => {
    it.each([
      ['matches any method when the route lists none', undefined, 'DELETE', true],
      ['matches a listed method', ['GET', 'HEAD'], 'GET', true],
      ['matches another listed method', ['GET', 'HEAD'], 'HEAD', true],
      ['does not match an unlisted method', ['GET', 'HEAD'], 'POST', false],
    ])('%s (methods %j, request %s)', (_sentence, methods, method, matches) => {
      expect(serviceFor([route({ methods })], undefined, '/', method)).toBe(matches ? 'svc' : undefined);
    });
  });

  describe('headers', () => {
    const required = { 'x-version': '2', 'x-tenant': 'acme' };
    it.each<[string, IncomingHttpHeaders, boolean]>([
      ['matches when every header is present with its value', { 'x-version': '2', 'x-tenant': 'acme', accept: '*/*' }, true],
      ['does not match when a header is missing', { 'x-version': '2' }, false],
      ['does not match when a header has another value', { 'x-version': '3', 'x-tenant': 'acme' }, false],
      ['compares values exactly, case and all', { 'x-version': '2', 'x-tenant': 'ACME' }, false],
      ['does not match an empty value for a required one', { 'x-version': '', 'x-tenant': 'acme' }, false],
      ['matches a repeated header when one of its values is the one', { 'x-version': ['1', '2'], 'x-tenant': 'acme' }, true],
      ['does not match a repeated header when none of its values is the one', { 'x-version': ['1', '3'], 'x-tenant': 'acme' }, false],
    ])('%s', (_sentence, headers, matches) => {
      expect(serviceFor([route({ headers: required })], undefined, '/', 'GET', headers)).toBe(matches ? 'svc' : undefined);
    });

    it('matches any headers when the route requires none', () => {
      expect(serviceFor([route({ prefix: '/a' })], undefined, '/a', 'GET', { 'x-version': '9' })).toBe('svc');
    });
  });

  describe('precedence', () => {
    it.each<[string, RouteSpec[], string | undefined, string, string, IncomingHttpHeaders, string | undefined]>([
      [
        'prefers an exact host to a wildcard',
        [route({ service: 'wildcard', host: '*.example.com', index: 0 }), route({ service: 'exact', host: 'api.example.com', index: 1 })],
        'api.example.com',
        '/',
        'GET',
        {},
        'exact',
      ],
      [
        'prefers a wildcard host to no host even when the no-host route has a longer prefix',
        [route({ service: 'none', prefix: '/api/v1', index: 0 }), route({ service: 'wildcard', host: '*.example.com', index: 1 })],
        'api.example.com',
        '/api/v1/items',
        'GET',
        {},
        'wildcard',
      ],
      [
        'prefers an exact host to no host even when the no-host route has a longer prefix',
        [route({ service: 'none', prefix: '/api/v1', index: 0 }), route({ service: 'exact', host: 'api.example.com', index: 1 })],
        'api.example.com',
        '/api/v1/items',
        'GET',
        {},
        'exact',
      ],
      [
        'prefers the longer wildcard suffix, even to a longer prefix',
        [route({ service: 'short', host: '*.example.com', prefix: '/api', index: 0 }), route({ service: 'long', host: '*.b.example.com', index: 1 })],
        'a.b.example.com',
        '/api',
        'GET',
        {},
        'long',
      ],
      [
        'prefers the longest prefix among routes of the same host',
        [route({ service: 'short', prefix: '/api', index: 0 }), route({ service: 'long', prefix: '/api/v1', index: 1 }), route({ service: 'root', index: 2 })],
        undefined,
        '/api/v1/items',
        'GET',
        {},
        'long',
      ],
      [
        'breaks ties by file order, whatever the order routes are given in',
        [route({ service: 'second', prefix: '/api', index: 1 }), route({ service: 'first', prefix: '/api', index: 0 })],
        undefined,
        '/api',
        'GET',
        {},
        'first',
      ],
      [
        'falls through to the next route when a more specific one refuses the method',
        [route({ service: 'writes', prefix: '/api/v1', methods: ['POST'], index: 0 }), route({ service: 'reads', prefix: '/api', index: 1 })],
        undefined,
        '/api/v1/items',
        'GET',
        {},
        'reads',
      ],
      [
        'falls through to the next route when a more specific one lacks its header',
        [route({ service: 'canary', host: 'api.example.com', headers: { 'x-canary': '1' }, index: 0 }), route({ service: 'stable', host: 'api.example.com', index: 1 })],
        'api.example.com',
        '/',
        'GET',
        {},
        'stable',
      ],
      [
        'falls through from an exact host to a wildcard when the exact host route’s prefix does not match',
        [route({ service: 'exact', host: 'api.example.com', prefix: '/admin', index: 0 }), route({ service: 'wildcard', host: '*.example.com', index: 1 })],
        'api.example.com',
        '/users',
        'GET',
        {},
        'wildcard',
      ],
      [
        'falls through from a longer wildcard suffix to a shorter one',
        [route({ service: 'long', host: '*.b.example.com', methods: ['POST'], index: 0 }), route({ service: 'short', host: '*.example.com', index: 1 })],
        'a.b.example.com',
        '/',
        'GET',
        {},
        'short',
      ],
      [
        'falls through to a route without a host when no host route matches',
        [route({ service: 'exact', host: 'api.example.com', index: 0 }), route({ service: 'none', index: 1 })],
        'www.example.com',
        '/',
        'GET',
        {},
        'none',
      ],
      [
        'takes a route without a host for a request without a Host header',
        [route({ service: 'exact', host: 'api.example.com', index: 0 }), route({ service: 'none', index: 1 })],
        undefined,
        '/',
        'GET',
        {},
        'none',
      ],
      [
        'matches nothing when no route’s conditions all hold',
        [route({ service: 'exact', host: 'api.example.com', index: 0 }), route({ service: 'none', prefix: '/api', index: 1 })],
        'www.example.com',
        '/users',
        'GET',
        {},
        undefined,
      ],
    ])('%s', (_sentence, routes, host, path, method, headers, service) => {
      expect(serviceFor(routes, host, path, method, headers)).toBe(service);
    });

    it('lists the routes in the order it tries them', () => {
      const routes = [
        route({ service: 'none-root', index: 0 }),
        route({ service: 'none-api', prefix: '/api', index: 1 }),
        route({ service: 'wild-short', host: '*.example.com', index: 2 }),
        route({ service: 'exact-root', host: 'api.example.com', index: 3 }),
        route({ service: 'wild-long', host: '*.b.example.com', index: 4 }),
        route({ service: 'exact-api', host: 'www.example.com', prefix: '/api', index: 5 }),
        route({ service: 'exact-root-later', host: 'www.example.com', index: 6 }),
      ];
      expect(new RouteTable(routes).routes.map((entry) => entry.service)).toEqual([
        'exact-api',
        'exact-root',
        'exact-root-later',
        'wild-long',
        'wild-short',
        'none-api',
        'none-root',
      ]);
    });
  });

  describe('forwarded path', () => {
    it.each([
      ['/users', false, '/users/42?a=1', '/users/42?a=1'],
      ['/users', true, '/users', '/'],
      ['/users', true, '/users/', '/'],
      ['/users', true, '/users/42', '/42'],
      ['/users', true, '/users/42?a=1', '/42?a=1'],
      ['/users', true, '/users?x=1', '/?x=1'],
      ['/api/v1', true, '/api/v1/items/7', '/items/7'],
      ['/', true, '/users/42?a=1', '/users/42?a=1'],
      ['/', false, '/users/42?a=1', '/users/42?a=1'],
    ])('with prefix %j and stripPrefix %s, forwards %j as %j', (prefix, strip, path, forwarded) => {
      const routes = [route({ prefix, strip }), route({ service: 'other', prefix: '/never', index: 1 })];
      expect(matchOf(new RouteTable(routes), undefined, path, 'GET', {})).toEqual({ route: routes[0], path: forwarded });
    });
  });

  describe('edge cases', () => {
    it('matches nothing when it has no routes', () => {
      expect(matchOf(new RouteTable([]), 'api.example.com', '/', 'GET', {})).toBeUndefined();
    });

    it('takes every request as it is with a single catch-all route', () => {
      const only = route();
      const table = new RouteTable([only]);
      expect(matchOf(table, undefined, '/a/b?c=d', 'PATCH', {})).toEqual({ route: only, path: '/a/b?c=d' });
      expect(matchOf(table, 'Any.Host:1', '/', 'GET', { 'x-any': 'thing' })).toEqual({ route: only, path: '/' });
    });

    it('still checks a single route that has a condition', () => {
      const table = new RouteTable([route({ methods: ['GET'] })]);
      expect(matchOf(table, undefined, '/', 'POST', {})).toBeUndefined();
      expect(matchOf(table, undefined, '/', 'GET', {})?.route.service).toBe('svc');
    });

    it('tolerates a route written in other than normal form: host case, trailing dot and slash, header name case', () => {
      const table = new RouteTable([route({ host: 'API.Example.com.', prefix: '/users/', headers: { 'X-Version': '2' }, strip: true })]);
      expect(matchOf(table, 'api.example.com', '/users/42', 'GET', { 'x-version': '2' })?.path).toBe('/42');
    });
  });
});
