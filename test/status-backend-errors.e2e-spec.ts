import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { freePort } from './support/ports.js';

async function statusJson(gateway: TestGateway) {
  return JSON.parse((await rawRequest(`${gateway.url}/status?format=json`)).body.toString());
}

describe('GET /status as backends go down: since when, their last error, panic routing', () => {
  let live: TestBackend;
  let deadUrl: string;
  let gateway: TestGateway;

  beforeAll(async () => {
    live = await startBackend({ name: 'live' });
    deadUrl = `http://127.0.0.1:${await freePort()}`;
    // One refusal opens a breaker, and a long cool-down keeps it open (no probe) for the scenario.
    gateway = await startGateway([`--backends=${live.url},${deadUrl}`, '--breaker-failures=1', '--breaker-cooldown=10m', '--rate-limit=0']);
  });

  afterAll(async () => {
    await gateway?.close();
    await live?.close();
  });

  it('shows the refusing backend down since its breaker opened, its last error ECONNREFUSED, and no panic while one is up', async () => {
    const before = Date.now();
    for (let i = 0; i < 2; i++) expect((await rawRequest(`${gateway.url}/items/${i}`)).status).toBe(200);
    const after = Date.now();
    const view = await statusJson(gateway);
    const dead = view.backends.find((backend: { url: string }) => backend.url === deadUrl);
    expect(dead).toMatchObject({ availability: 'down', breaker: 'open', lastError: { reason: 'ECONNREFUSED' } });
    expect(dead.since).toBeGreaterThanOrEqual(before);
    expect(dead.since).toBeLessThanOrEqual(after);
    expect(dead.lastError.at).toBeGreaterThanOrEqual(before);
    expect(dead.lastError.at).toBeLessThanOrEqual(after);
    expect(view.gateway.panicRouting).toBe(false);
  });

  it('says the pool is panic routing once every backend is down, in the JSON and on the page, and counts those requests', async () => {
    await live.close();
    // The live backend's one refusal opens its breaker; the retry goes to the dead one anyway (panic).
    expect((await rawRequest(`${gateway.url}/items/again`)).status).toBe(502);
    const view = await statusJson(gateway);
    expect(view.backends.map((backend: { availability: string }) => backend.availability)).toEqual(['down', 'down']);
    expect(view.gateway.panicRouting).toBe(true);
    expect(view.gateway.totals.panicRouted).toBeGreaterThan(0);
    const page = (await rawRequest(`${gateway.url}/status`)).body.toString();
    expect(page).toMatch(/<div id="panic-notice"><p class="panic"><strong>Panic routing:<\/strong>/);
  });
});
