import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

describe('GET /status', () => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({ name: 'one' });
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=0']);
  });

  afterAll(async () => {
    await gateway.close();
    await backend.close();
  });

  it('is the gateway own page, never proxied to a backend', async () => {
    const res = await rawRequest(`${gateway.url}/status`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body.toString()).toContain('<title>Gateway status</title>');
    expect(backend.requests).toEqual([]);
  });

  it('forbids the page to load anything from elsewhere, and caches nothing', async () => {
    const res = await rawRequest(`${gateway.url}/status`);
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; /);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers JSON for ?format=json, with the last minute of proxied traffic', async () => {
    for (let i = 0; i < 3; i++) expect((await rawRequest(`${gateway.url}/items`)).status).toBe(200);
    const res = await rawRequest(`${gateway.url}/status?format=json`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const view = JSON.parse(res.body.toString());
    expect(view.backends).toHaveLength(1);
    expect(view.backends[0]).toMatchObject({ url: backend.url, availability: 'up', breaker: 'closed', health: 'healthy' });
    expect(view.backends[0].lastMinute.requestsPerSecond).toBeGreaterThan(0);
    expect(view.backends[0].lastMinute.latencyMs.p50).toBeGreaterThan(0);
    expect(view.gateway.totals.requests).toBe(3);
  });

  it('names the gateway’s version and start in the JSON, and each backend’s since and last error', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const view = JSON.parse((await rawRequest(`${gateway.url}/status?format=json`)).body.toString());
    expect(view.gateway).toMatchObject({ version, panicRouting: false, totals: { panicRouted: 0 } });
    expect(view.gateway.startedAt).toBeLessThanOrEqual(Date.parse(view.generatedAt));
    // Up since the gateway started: its counters were made at start, and nothing has changed since.
    expect(view.backends[0].since).toBeGreaterThanOrEqual(view.gateway.startedAt);
    expect(view.backends[0].since).toBeLessThan(view.gateway.startedAt + 5_000);
    expect(view.backends[0].lastError).toBeNull();
  });

  it('refuses a format it does not know with 400', async () => {
    const res = await rawRequest(`${gateway.url}/status?format=xml`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ statusCode: 400 });
  });
});
