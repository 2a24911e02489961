import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { runLoad, tally } from './support/load.js';

/** A valid --admin-token (≥ 16 characters of a bearer token's alphabet). */
const TOKEN = 'admin-api-test-token-0123456789abcdef';

/** What the admin API answered. */
interface AdminAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
  readonly text: string;
}

interface AdminRequest {
  /** A JSON value (serialised), or a string sent as it is. */
  readonly body?: unknown;
  /** The token to send; `null`: no Authorization header at all. */
  readonly token?: string | null;
}

/** One request to the admin API on a fresh connection. */
async function admin(base: string, method: string, path: string, { body, token = TOKEN }: AdminRequest = {}): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const response = await rawRequest(`${base}${path}`, { method, headers, body: payload });
  const text = response.body.toString();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

interface BackendView {
  readonly url: string;
  readonly weight: number;
  readonly state: 'active' | 'drained';
  readonly available: boolean;
  readonly breaker: string;
  readonly health: string;
  readonly inFlight: number;
}

interface ServiceView {
  readonly name: string;
  readonly balance: string;
  readonly backends: readonly BackendView[];
}

async function listServices(base: string): Promise<readonly ServiceView[]> {
  const answer = await admin(base, 'GET', '/admin/services');
  expect(answer.status).toBe(200);
  return (answer.json as { services: ServiceView[] }).services;
}

/** Backend URLs of one service, as GET /admin/services lists them. */
async function backendUrls(base: string, service: string): Promise<string[]> {
  const services = await listServices(base);
  return services.find((entry) => entry.name === service)?.backends.map((backend) => backend.url) ?? [];
}

/** The backends JSON /metrics lists (on the admin listener, where the own endpoints are). */
async function metricsBackends(base: string): Promise<string[]> {
  const response = await rawRequest(`${base}/metrics`, { headers: { accept: 'application/json' } });
  expect(response.status).toBe(200);
  return (JSON.parse(response.body.toString()) as { backends: { url: string }[] }).backends.map((backend) => backend.url);
}

/** Nest's JSON error shape, with a message that matches. */
function expectError(answer: AdminAnswer, status: number, message?: RegExp): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.json).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.anything() });
  if (message) {
    const text = [(answer.json as { message: string | string[] }).message].flat().join('; ');
    expect(text).toMatch(message);
  }
}

const q = (url: string) => `url=${encodeURIComponent(url)}`;

describe('admin API (/admin/services, undici engine)', () => {
  let a: TestBackend;
  let b: TestBackend;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    a = await startBackend({ handler: (req, res) => res.end(`a saw ${req.url}`) });
    b = await startBackend({ name: 'b' });
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  async function gatewayWith(argv: readonly string[], env: Record<string, string> = {}): Promise<TestGateway> {
    const gateway = await startGateway(['--proxy-engine=undici', ...argv], env);
    gateways.push(gateway);
    return gateway;
  }

  describe('authentication and availability', () => {
    it('answers 401 with WWW-Authenticate without the token or with a wrong one, 200 with the right one', async () => {
      const gateway = await gatewayWith([backendsFlag(a, b), '--admin-listen=127.0.0.1:0', `--admin-token=${TOKEN}`]);
      const base = gateway.adminUrl!;

      const none = await admin(base, 'GET', '/admin/services', { token: null });
      expectError(none, 401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="gateway-admin"');

      const wrong = await admin(base, 'GET', '/admin/services', { token: `${TOKEN}-not` });
      expectError(wrong, 401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer realm="gateway-admin"');

      // A changing request without the token changes nothing.
      const refused = await admin(base, 'POST', '/admin/services/default/backends', { token: null, body: { url: 'http://127.0.0.1:9', weight: 1 } });
      expectError(refused, 401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="gateway-admin"');

      const right = await admin(base, 'GET', '/admin/services');
      expect(right.status).toBe(200);
      expect(await backendUrls(base, 'default')).toEqual([a.url, b.url]);
    });

    it('takes the token from ADMIN_TOKEN too', async () => {
      const gateway = await gatewayWith([backendsFlag(a, b), '--admin-listen=127.0.0.1:0'], { ADMIN_TOKEN: TOKEN });
      expect((await admin(gateway.adminUrl!, 'GET', '/admin/services')).status).toBe(200);
      expectError(await admin(gateway.adminUrl!, 'GET', '/admin/services', { token: null }), 401);
    });

    it('has no admin API with --admin-token but no --admin-listen: /admin is proxied on --listen like any path', async () => {
      const gateway = await gatewayWith([backendsFlag(a), `--admin-token=${TOKEN}`]);
      expect(gateway.adminUrl).toBeUndefined();
      const before = a.requests.length;
      const answer = await admin(gateway.url, 'GET', '/admin/services');
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('a saw /admin/services');
      expect(a.requests.slice(before).map((request) => request.url)).toEqual(['/admin/services']);
    });

    it('answers 404 on /admin/services with --admin-listen but no token', async () => {
      const gateway = await gatewayWith([backendsFlag(a, b), '--admin-listen=127.0.0.1:0']);
      expectError(await admin(gateway.adminUrl!, 'GET', '/admin/services'), 404);
      expectError(await admin(gateway.adminUrl!, 'GET', '/admin/services', { token: null }), 404);
      expectError(await admin(gateway.adminUrl!, 'POST', '/admin/services/default/backends', { body: { url: 'http://127.0.0.1:9', weight: 1 } }), 404);
      expectError(await admin(gateway.adminUrl!, 'PUT', `/admin/services/default/backends/state?${q(a.url)}`, { body: { state: 'drained' } }), 404);
      expectError(await admin(gateway.adminUrl!, 'DELETE', `/admin/services/default/backends?${q(a.url)}`), 404);
      expect(await metricsBackends(gateway.adminUrl!)).toEqual([a.url, b.url]);
    });
  });

  it('lists the flags’ one service, default, with --backends=a,b: both active and available', async () => {
    const gateway = await gatewayWith([backendsFlag(a, b), '--admin-listen=127.0.0.1:0', `--admin-token=${TOKEN}`]);
    const services = await listServices(gateway.adminUrl!);
    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({ name: 'default', balance: expect.any(String) });
    expect(services[0].backends).toHaveLength(2);
    for (const [index, backend] of [a, b].entries()) {
      expect(services[0].backends[index]).toEqual({
        url: backend.url,
        weight: 1,
        state: 'active',
        available: true,
        breaker: expect.any(String),
        health: 'healthy',
        inFlight: 0,
      });
    }
  });

  it('under a steady stream, adds c, drains and reactivates a, removes b: every request 200', async () => {
    const c = await startBackend({ name: 'c' });
    try {
      const gateway = await gatewayWith([backendsFlag(a, b), '--admin-listen=127.0.0.1:0', `--admin-token=${TOKEN}`, '--rate-limit=0']);
      const base = gateway.adminUrl!;
      const concurrency = 4;
      let stepsDone = false;
      const started = performance.now();
      const load = runLoad({
        url: `${gateway.url}/stream`,
        total: 50_000,
        concurrency,
        requestTimeoutMs: 5_000,
        // ~3 s, longer only if the steps below need it, never past 10 s.
        until: () => {
          const elapsed = performance.now() - started;
          return (stepsDone && elapsed > 3_000) || elapsed > 10_000;
        },
      });
      const log: string[] = [];
      try {
        await expect.poll(() => a.arrivals.length + b.arrivals.length, { timeout: 2_000, interval: 10 }).toBeGreaterThan(20);

        // POST c: 201 with its view; c then gets requests.
        const added = await admin(base, 'POST', '/admin/services/default/backends', { body: { url: c.url, weight: 1 } });
        expect(added.status, added.text).toBe(201);
        expect(added.json).toMatchObject({ url: c.url, weight: 1, state: 'active', available: true });
        await expect.poll(() => c.arrivals.length, { timeout: 1_000, interval: 10 }).toBeGreaterThan(0);
        log.push(`c got its first request`);

        // PUT drained a: no new request reaches a after the 200 (those in flight aside).
        const drained = await admin(base, 'PUT', `/admin/services/default/backends/state?${q(a.url)}`, { body: { state: 'drained' } });
        const aAtDrain = a.arrivals.length;
        expect(drained.status, drained.text).toBe(200);
        expect(drained.json).toMatchObject({ url: a.url, state: 'drained', available: false });
        await sleep(100);
        const aSettled = a.arrivals.length;
        expect(aSettled - aAtDrain).toBeLessThanOrEqual(concurrency);
        const bDuringDrain = b.arrivals.length;
        await sleep(400);
        expect(a.arrivals.length).toBe(aSettled);
        // … while the stream goes on to b and c.
        expect(b.arrivals.length).toBeGreaterThan(bDuringDrain);
        expect((await listServices(base))[0].backends.find((backend) => backend.url === a.url)).toMatchObject({ state: 'drained', available: false });
        log.push(`a: ${aAtDrain} at the drain, ${aSettled} 100 ms later, ${a.arrivals.length} 500 ms later`);

        // PUT active a: a gets requests again.
        const activated = await admin(base, 'PUT', `/admin/services/default/backends/state?${q(a.url)}`, { body: { state: 'active' } });
        expect(activated.status, activated.text).toBe(200);
        expect(activated.json).toMatchObject({ url: a.url, state: 'active', available: true });
        await expect.poll(() => a.arrivals.length, { timeout: 1_000, interval: 10 }).toBeGreaterThan(aSettled);

        // DELETE b: 202; b gets nothing new, and /metrics forgets it within ~1 s.
        const removed = await admin(base, 'DELETE', `/admin/services/default/backends?${q(b.url)}`);
        const bAtRemoval = b.arrivals.length;
        expect(removed.status, removed.text).toBe(202);
        await expect.poll(() => metricsBackends(base), { timeout: 1_000, interval: 50 }).not.toContain(b.url);
        const bSettled = b.arrivals.length;
        expect(bSettled - bAtRemoval).toBeLessThanOrEqual(concurrency);
        expect(await backendUrls(base, 'default')).toEqual([a.url, c.url]);
        const aBefore = a.arrivals.length;
        const cBefore = c.arrivals.length;
        await sleep(300);
        expect(b.arrivals.length).toBe(bSettled);
        expect(a.arrivals.length).toBeGreaterThan(aBefore);
        expect(c.arrivals.length).toBeGreaterThan(cBefore);
        log.push(`b: ${bAtRemoval} at the removal, ${b.arrivals.length} at the end`);
      } finally {
        stepsDone = true;
      }
      const results = await load;
      console.log(`admin changes under load: ${results.length} requests, ${JSON.stringify(tally(results))}; ${log.join('; ')}`);
      expect(results.length).toBeGreaterThan(100);
      expect(tally(results)).toEqual({ 200: results.length });
      expect(results.filter((result) => !['a saw /stream', 'b', 'c'].includes(result.body))).toEqual([]);
    } finally {
      await c.close();
    }
  });

  describe('errors', () => {
    let gateway: TestGateway;
    let base: string;
    let c: TestBackend;

    beforeAll(async () => {
      c = await startBackend({ name: 'c' });
      gateway = await startGateway(['--proxy-engine=undici', backendsFlag(a, b), '--admin-listen=127.0.0.1:0', `--admin-token=${TOKEN}`]);
      base = gateway.adminUrl!;
    });

    afterAll(async () => {
      await gateway?.close();
      await c?.close();
    });

    it('answers 404 for an unknown service', async () => {
      expectError(await admin(base, 'POST', '/admin/services/nope/backends', { body: { url: c.url, weight: 1 } }), 404);
      expectError(await admin(base, 'DELETE', `/admin/services/nope/backends?${q(a.url)}`), 404);
      expectError(await admin(base, 'PUT', `/admin/services/nope/backends/state?${q(a.url)}`, { body: { state: 'drained' } }), 404);
    });

    it('answers 404 for an unknown backend, on DELETE and on PUT', async () => {
      expectError(await admin(base, 'DELETE', `/admin/services/default/backends?${q(c.url)}`), 404);
      expectError(await admin(base, 'PUT', `/admin/services/default/backends/state?${q(c.url)}`, { body: { state: 'drained' } }), 404);
      expect(await backendUrls(base, 'default')).toEqual([a.url, b.url]);
    });

    it('finds a backend whatever its URL’s trailing slash (WHATWG normalisation)', async () => {
      const drained = await admin(base, 'PUT', `/admin/services/default/backends/state?${q(`${b.url}/`)}`, { body: { state: 'drained' } });
      expect(drained.status, drained.text).toBe(200);
      expect(drained.json).toMatchObject({ url: b.url, state: 'drained' });
      const active = await admin(base, 'PUT', `/admin/services/default/backends/state?${q(b.url)}`, { body: { state: 'active' } });
      expect(active.status, active.text).toBe(200);
      expect(active.json).toMatchObject({ url: b.url, state: 'active' });
    });

    it('answers 409 for a backend already there (the same URL with a trailing slash)', async () => {
      expectError(await admin(base, 'POST', '/admin/services/default/backends', { body: { url: `${a.url}/`, weight: 1 } }), 409);
      expectError(await admin(base, 'POST', '/admin/services/default/backends', { body: { url: a.url, weight: 2 } }), 409);
      expect(await backendUrls(base, 'default')).toEqual([a.url, b.url]);
    });

    it.each([
      ['weight "x"', { url: 'http://127.0.0.1:9', weight: 'x' }, /weight: expected a whole number ≥ 1/],
      ['weight 0', { url: 'http://127.0.0.1:9', weight: 0 }, /weight: expected a whole number ≥ 1/],
      ['weight 1.5', { url: 'http://127.0.0.1:9', weight: 1.5 }, /weight: expected a whole number ≥ 1/],
      ['no url', { weight: 1 }, /url: /],
      ['url "ftp://x"', { url: 'ftp://x', weight: 1 }, /url: /],
      ['an extra field', { url: 'http://127.0.0.1:9', weight: 1, x: true }, /unknown field x/],
      ['a body that is not JSON', '{"url": "http://127.0.0.1:9",', /JSON/],
      ['an empty body', '', /JSON/],
    ])('answers 400 to POST with %s, naming the field', async (_what, body, message) => {
      const answer = await admin(base, 'POST', '/admin/services/default/backends', { body });
      expectError(answer, 400, message);
      expect(await backendUrls(base, 'default')).toEqual([a.url, b.url]);
    });

    it.each([
      ['state "sleeping"', { state: 'sleeping' }, /state: expected "active" or "drained"/],
      ['no state', {}, /state: expected "active" or "drained"/],
      ['an extra field', { state: 'drained', x: 1 }, /unknown field x/],
      ['a body that is not JSON', 'drained', /JSON/],
      ['an empty body', '', /JSON/],
    ])('answers 400 to PUT state with %s, naming the field', async (_what, body, message) => {
      const answer = await admin(base, 'PUT', `/admin/services/default/backends/state?${q(a.url)}`, { body });
      expectError(answer, 400, message);
      expect((await listServices(base))[0].backends.map((backend) => backend.state)).toEqual(['active', 'active']);
    });
  });

  describe('with --config', () => {
    let dir: string;
    let u1: TestBackend;
    let u2: TestBackend;
    let o1: TestBackend;
    let extra: TestBackend;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gateway-admin-api-'));
      [u1, u2, o1, extra] = await Promise.all([startBackend({ name: 'u1' }), startBackend({ name: 'u2' }), startBackend({ name: 'o1' }), startBackend({ name: 'extra' })]);
    });

    afterAll(async () => {
      await Promise.all([u1, u2, o1, extra].map((backend) => backend?.close()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** services users and orders, /orders to orders, everything else to users; `usersWeight` sets u2's weight. */
    const configText = (usersWeight = 1) =>
      toYaml({
        services: { users: { backends: [u1.url, { url: u2.url, weight: usersWeight }] }, orders: { backends: [o1.url] } },
        routes: [{ match: { pathPrefix: '/orders' }, service: 'orders' }, { service: 'users' }],
      });

    it('refuses to add to orders a backend of users: 409', async () => {
      const path = join(dir, 'conflict.yaml');
      writeFileSync(path, configText());
      const gateway = await gatewayWith([`--config=${path}`, '--admin-listen=127.0.0.1:0', `--admin-token=${TOKEN}`]);
      const base = gateway.adminUrl!;
      expect((await listServices(base)).map((service) => service.name)).toEqual(['users', 'orders']);

      expectError(await admin(base, 'POST', '/admin/services/orders/backends', { body: { url: u1.url, weight: 1 } }), 409, /users/);
      expectError(await admin(base, 'POST', '/admin/services/orders/backends', { body: { url: `${u2.url}/`, weight: 1 } }), 409, /users/);
      expect(await backendUrls(base, 'orders')).toEqual([o1.url]);
      expect(await backendUrls(base, 'users')).toEqual([u1.url, u2.url]);

      // A backend no service has is added, to orders, and takes its requests.
      const added = await admin(base, 'POST', '/admin/services/orders/backends', { body: { url: extra.url, weight: 1 } });
      expect(added.status, added.text).toBe(201);
      expect(await backendUrls(base, 'orders')).toEqual([o1.url, extra.url]);
      const bodies = new Set<string>();
      for (let i = 0; i < 4; i++) bodies.add((await rawRequest(`${gateway.url}/orders/x`)).body.toString());
      expect([...bodies].sort()).toEqual(['extra', 'o1']);
    });

    it('loses an admin change at the next reload of the file', async () => {
      const path = join(dir, 'reload.yaml');
      writeFileSync(path, configText());
      const gateway = await gatewayWith([`--config=${path}`, '--admin-listen=127.0.0.1:0', `--admin-token=${TOKEN}`]);
      const base = gateway.adminUrl!;

      const added = await admin(base, 'POST', '/admin/services/users/backends', { body: { url: extra.url, weight: 1 } });
      expect(added.status, added.text).toBe(201);
      expect(await backendUrls(base, 'users')).toEqual([u1.url, u2.url, extra.url]);

      // A different valid version (u2's weight 2): it replaces the running one, the admin change with it.
      writeFileSync(path, configText(2));
      await expect
        .poll(async () => (await listServices(base)).find((service) => service.name === 'users')?.backends.map(({ url, weight }) => `${url} ${weight}`), { timeout: 3_000, interval: 50 })
        .toEqual([`${u1.url} 1`, `${u2.url} 2`]);
      await expect.poll(() => metricsBackends(base), { timeout: 2_000, interval: 50 }).not.toContain(extra.url);
      const before = extra.arrivals.length;
      for (let i = 0; i < 6; i++) expect((await rawRequest(`${gateway.url}/x`)).status).toBe(200);
      expect(extra.arrivals.length).toBe(before);
    });
  });
});
