import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configHash } from '../src/config/config-file.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { type RawResponse, rawRequest } from './support/http.js';
import { parseExposition } from './support/prometheus-text.js';

/** Nest's JSON shape for a request no route serves. */
const NO_ROUTE = { statusCode: 404, error: 'Not Found', message: 'No route matches this request' };

/**
 * Two services and five routes, by host and path. The POST-only route comes before the wildcard
 * route with the same host and prefix: they tie on precedence, so file order lets it win for POST.
 */
function configFile(users: readonly TestBackend[], orders: TestBackend): string {
  return `# routes-and-services.e2e-spec.ts
services:
  users:
    backends:
      - ${users[0].url}
      - url: ${users[1].url}
        weight: 1
  orders:
    backends:
      - ${orders.url}

routes:
  # Any path on this exact host, unchanged.
  - match: { host: users.example.com }
    service: users

  # Writes to orders on any subdomain: two a second per client, path unchanged.
  - match: { host: "*.example.com", pathPrefix: /orders, methods: [POST] }
    service: orders
    rateLimit: 2

  - match: { host: "*.example.com", pathPrefix: /orders }
    service: orders
    stripPrefix: true

  - match: { pathPrefix: /users }
    service: users
    stripPrefix: true

  - match: { pathPrefix: /orders, methods: [GET], headers: { X-Version: "2" } }
    service: orders
`;
}

interface Sent {
  readonly response: RawResponse;
  /** Every backend that recorded a request while this one was under way, with the target it got. */
  readonly reached: readonly { name: string; url: string }[];
}

describe.each(ENGINES)('routes and services from --config (%s)', (engine) => {
  let usersA: TestBackend;
  let usersB: TestBackend;
  let orders: TestBackend;
  let gateway: TestGateway;
  let dir: string;
  let configText: string;
  const names = new Map<TestBackend, string>();

  /** One request with this Host (the gateway's own address when left out), and which backend got what. */
  async function send(
    target: string,
    options: { host?: string; method?: string; headers?: Record<string, string>; localAddress?: string } = {},
  ): Promise<Sent> {
    const before = new Map([...names.keys()].map((backend) => [backend, backend.requests.length]));
    const headers: Record<string, string> = { ...options.headers };
    if (options.host !== undefined) headers.host = options.host;
    const method = options.method ?? 'GET';
    // No body: say so, rather than let node:http send an empty chunked one.
    if (method !== 'GET' && method !== 'HEAD') headers['content-length'] = '0';
    const response = await rawRequest(`${gateway.url}${target}`, { method, headers, localAddress: options.localAddress });
    const reached = [...names].flatMap(([backend, name]) => backend.requests.slice(before.get(backend)).map((recorded) => ({ name, url: recorded.url })));
    return { response, reached };
  }

  beforeAll(async () => {
    usersA = await startBackend({ name: 'users-a' });
    usersB = await startBackend({ name: 'users-b' });
    orders = await startBackend({ name: 'orders' });
    names.set(usersA, 'users-a').set(usersB, 'users-b').set(orders, 'orders');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-'));
    const file = path.join(dir, 'gateway.yaml');
    configText = configFile([usersA, usersB], orders);
    fs.writeFileSync(file, configText);
    gateway = await startGateway([`--proxy-engine=${engine}`, `--config=${file}`, '--rate-limit=1000']);
  });

  afterAll(async () => {
    await gateway?.close();
    await usersA?.close();
    await usersB?.close();
    await orders?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['any path on the exact host users.example.com', 'users.example.com', 'GET', '/anything/here?q=1', {}, 'users', '/anything/here?q=1'],
    ['the exact host written in capitals, with a port and a trailing dot', 'USERS.Example.com.:8080', 'GET', '/x', {}, 'users', '/x'],
    ['/orders/7 on a subdomain, its prefix stripped', 'shop.example.com', 'GET', '/orders/7', {}, 'orders', '/7'],
    ['/orders itself on a subdomain, as /', 'shop.example.com', 'GET', '/orders', {}, 'orders', '/'],
    ['/users/5 on a subdomain, which only routes /orders, to the route without a host', 'shop.example.com', 'GET', '/users/5', {}, 'users', '/5'],
    ['/users/5 on any other host, its prefix stripped', undefined, 'GET', '/users/5', {}, 'users', '/5'],
    ['GET /orders/7 with X-Version: 2 on any other host, unchanged', undefined, 'GET', '/orders/7', { 'X-Version': '2' }, 'orders', '/orders/7'],
    ['POST /orders/new on a subdomain, to the POST-only route (first written), unchanged', 'shop.example.com', 'POST', '/orders/new', {}, 'orders', '/orders/new'],
  ] as const)('sends %s to the right service with the right path', async (_what, host, method, target, headers, service, expectedPath) => {
    const { response, reached } = await send(target, { host, method, headers });
    expect(response.status).toBe(200);
    expect(reached).toHaveLength(1);
    const [{ name, url }] = reached;
    expect(name.startsWith(service)).toBe(true);
    expect(url).toBe(expectedPath);
    // The backend that recorded it is the one that answered.
    expect(response.body.toString()).toBe(name);
  });

  it('strips the /users prefix: /users/42?x=1 reaches users as /42?x=1, and /users as /', async () => {
    const withQuery = await send('/users/42?x=1');
    expect(withQuery.response.status).toBe(200);
    expect(withQuery.reached.map(({ name, url }) => [name.slice(0, 5), url])).toEqual([['users', '/42?x=1']]);

    const bare = await send('/users');
    expect(bare.response.status).toBe(200);
    expect(bare.reached.map(({ name, url }) => [name.slice(0, 5), url])).toEqual([['users', '/']]);

    const query = await send('/users?x=1');
    expect(query.response.status).toBe(200);
    expect(query.reached.map(({ name, url }) => [name.slice(0, 5), url])).toEqual([['users', '/?x=1']]);
  });

  it('answers 404 in JSON to /users2 (prefixes match on segment boundaries), and no backend sees it', async () => {
    for (const target of ['/users2', '/users2/42', '/usersx?y=1']) {
      const { response, reached } = await send(target);
      expect(response.status, target).toBe(404);
      expect(response.headers['content-type'], target).toMatch(/^application\/json\b/);
      expect(JSON.parse(response.body.toString()), target).toEqual(NO_ROUTE);
      expect(reached, target).toEqual([]);
    }
    for (const backend of names.keys()) expect(backend.arrivals.filter((url) => url.startsWith('/users2') || url.startsWith('/usersx'))).toEqual([]);
  });

  it('answers 404 to a path no route names, whatever the host', async () => {
    for (const host of [undefined, 'shop.example.com', 'example.com']) {
      const { response, reached } = await send('/payments/1', { host });
      expect(response.status, String(host)).toBe(404);
      expect(JSON.parse(response.body.toString())).toEqual(NO_ROUTE);
      expect(reached).toEqual([]);
    }
  });

  it('lets an exact host beat a wildcard host: users.example.com/orders goes to users, not orders', async () => {
    const { response, reached } = await send('/orders/7', { host: 'users.example.com' });
    expect(response.status).toBe(200);
    expect(reached.map(({ name, url }) => [name.slice(0, 5), url])).toEqual([['users', '/orders/7']]);
  });

  it('matches a wildcard host on a.b.example.com, but not on example.com itself', async () => {
    const deep = await send('/orders/7', { host: 'a.b.example.com' });
    expect(deep.response.status).toBe(200);
    expect(deep.reached).toEqual([{ name: 'orders', url: '/7' }]);

    // example.com is no subdomain of itself: only the routes without a host are left, and none takes /orders without X-Version.
    const apex = await send('/orders/7', { host: 'example.com' });
    expect(apex.response.status).toBe(404);
    expect(JSON.parse(apex.response.body.toString())).toEqual(NO_ROUTE);
    expect(apex.reached).toEqual([]);

    // With it, the route without a host takes it: the prefix kept shows it was not the wildcard route.
    const apexVersioned = await send('/orders/7', { host: 'example.com', headers: { 'X-Version': '2' } });
    expect(apexVersioned.response.status).toBe(200);
    expect(apexVersioned.reached).toEqual([{ name: 'orders', url: '/orders/7' }]);
  });

  it('lets a request whose method a route does not take fall through to the next route', async () => {
    // GET skips the POST-only route and reaches the wildcard route that strips /orders.
    const { response, reached } = await send('/orders/9', { host: 'shop.example.com' });
    expect(response.status).toBe(200);
    expect(reached).toEqual([{ name: 'orders', url: '/9' }]);
  });

  it.each([
    ['POST, with X-Version: 2', 'POST', { 'X-Version': '2' }],
    ['DELETE, with X-Version: 2', 'DELETE', { 'X-Version': '2' }],
    ['GET, with X-Version: 3', 'GET', { 'X-Version': '3' }],
    ['GET, with X-Version: 02', 'GET', { 'X-Version': '02' }],
    ['GET, without X-Version', 'GET', {}],
  ] as const)('answers 404 to /orders %s, when no route after the one it misses takes it', async (_what, method, headers) => {
    const { response, reached } = await send('/orders', { method, headers });
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body.toString())).toEqual(NO_ROUTE);
    expect(reached).toEqual([]);
  });

  it('takes the header condition whatever the case of the header name', async () => {
    const { response, reached } = await send('/orders', { headers: { 'x-VERSION': '2' } });
    expect(response.status).toBe(200);
    expect(reached).toEqual([{ name: 'orders', url: '/orders' }]);
  });

  it('alternates round robin between the two users backends, whichever route leads there', async () => {
    const answered: string[] = [];
    for (const [target, host] of [
      ['/users/1', undefined],
      ['/users/2', undefined],
      ['/a', 'users.example.com'],
      ['/users/3', 'shop.example.com'],
      ['/users/4', undefined],
      ['/b', 'users.example.com'],
    ] as const) {
      const { response, reached } = await send(target, { host });
      expect(response.status).toBe(200);
      expect(reached).toHaveLength(1);
      answered.push(reached[0].name);
    }
    const first = answered[0];
    const second = first === 'users-a' ? 'users-b' : 'users-a';
    expect(answered).toEqual([first, second, first, second, first, second]);
  });

  it('answers 429 with X-RateLimit-Scope: route to the third request in a second on a route with rateLimit: 2, while another route for the same client is not limited', async () => {
    // A client of its own: the other tests' POSTs on this route, from 127.0.0.1, may be in the same second.
    const localAddress = '127.0.0.2';
    // One after the other (what each reached is told apart), well within the second.
    const limited: Sent[] = [];
    for (let i = 0; i < 3; i++) limited.push(await send('/orders/pay', { host: 'shop.example.com', method: 'POST', localAddress }));
    expect(limited.map(({ response }) => response.status)).toEqual([200, 200, 429]);
    const refused = limited[2];
    expect(refused.response.headers['x-ratelimit-scope']).toBe('route');
    expect(refused.response.headers['x-ratelimit-limit']).toBe('2');
    expect(refused.response.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(refused.response.body.toString())).toMatchObject({ statusCode: 429 });
    expect(refused.reached).toEqual([]);
    // Only the two admitted ones reached orders.
    expect(limited.flatMap(({ reached }) => reached)).toEqual([
      { name: 'orders', url: '/orders/pay' },
      { name: 'orders', url: '/orders/pay' },
    ]);

    // The same client, the same second, other routes: the gateway's --rate-limit=1000 alone applies.
    for (const [target, host] of [
      ['/orders/pay', 'shop.example.com'],
      ['/users/1', undefined],
      ['/x', 'users.example.com'],
    ] as const) {
      const { response } = await send(target, { host, localAddress });
      expect(response.status, `${host} ${target}`).toBe(200);
      expect(response.headers['x-ratelimit-scope']).toBeUndefined();
    }
  });

  it('labels each backend’s series with its service in the Prometheus format', async () => {
    // Traffic to every backend, whatever ran before.
    for (let i = 0; i < 2; i++) expect((await send(`/users/m${i}`)).response.status).toBe(200);
    expect((await send('/orders/m', { host: 'shop.example.com' })).response.status).toBe(200);

    const response = await request(gateway.url).get('/metrics').set('Accept', 'text/plain').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const exposition = parseExposition(response.text);
    const requestsTotal = exposition.samples.filter((sample) => sample.name === 'gateway_requests_total');
    for (const [backend, service] of [
      [usersA, 'users'],
      [usersB, 'users'],
      [orders, 'orders'],
    ] as const) {
      const series = requestsTotal.filter((sample) => sample.labels.backend === backend.url);
      expect(series.length, backend.url).toBeGreaterThan(0);
      for (const sample of series) expect(sample.labels.service, backend.url).toBe(service);
      expect(series.find((sample) => sample.labels.method === 'GET' && sample.labels.status_class === '2xx')?.value, backend.url).toBeGreaterThan(0);
    }
    expect(response.text).toMatch(new RegExp(`^gateway_requests_total\\{service="users",backend="${usersA.url}",[^}]*\\} \\d+$`, 'm'));
    expect(response.text).toMatch(new RegExp(`^gateway_requests_total\\{service="orders",backend="${orders.url}",[^}]*\\} \\d+$`, 'm'));
    // No series of the flags' default service: --config replaces --backends.
    expect(requestsTotal.filter((sample) => sample.labels.service === 'default')).toEqual([]);
  });

  it('lists each backend with its service in the JSON /metrics', async () => {
    const response = await request(gateway.url).get('/metrics').set('Accept', 'application/json').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json\b/);
    const body = response.body as { requests: number; responses: number; errors: number; backends: { url: string; service: string; requests: number }[] };
    expect(typeof body.requests).toBe('number');
    expect(typeof body.responses).toBe('number');
    expect(typeof body.errors).toBe('number');
    const listed = body.backends.map(({ url, service }) => ({ url, service })).sort((a, b) => a.url.localeCompare(b.url));
    const expected = [
      { url: usersA.url, service: 'users' },
      { url: usersB.url, service: 'users' },
      { url: orders.url, service: 'orders' },
    ].sort((a, b) => a.url.localeCompare(b.url));
    expect(listed).toEqual(expected);
    for (const backend of body.backends) expect(backend.requests, backend.url).toBeGreaterThan(0);
  });

  it('exposes gateway_config_info with the 16-hex-digit hash of the file, the same as the JSON /metrics', async () => {
    const expectedHash = configHash(parseYaml(configText));
    expect(expectedHash).toMatch(/^[0-9a-f]{16}$/);
    const text = await request(gateway.url).get('/metrics?format=prometheus').expect(200);
    const lines = text.text.split('\n').filter((line) => line.startsWith('gateway_config_info'));
    expect(lines).toEqual([`gateway_config_info{hash="${expectedHash}"} 1`]);
    const json = await request(gateway.url).get('/metrics?format=json').expect(200);
    expect((json.body as { config: { hash: string } }).config.hash).toBe(expectedHash);
  });
});
