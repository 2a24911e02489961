import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { runLoad, tally } from './support/load.js';

describe.each(ENGINES)('fault: a backend answering 503 (%s)', (engine) => {
  let healthy: TestBackend | undefined;
  let overloaded: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await healthy?.close();
    await overloaded?.close();
  });

  it('shows GET clients no 503: each is retried on the healthy backend', async () => {
    healthy = await startBackend({ name: 'healthy' });
    overloaded = await startBackend({ handler: (_req, res) => res.writeHead(503, { 'retry-after': '1' }).end('overloaded') });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(healthy, overloaded), '--rate-limit=0']);
    // Three clients: the retry budget always allows three pending retries, and a 503 comes back at
    // once, so more clients than that could have more failures waiting out their backoff together.
    const results = await runLoad({ url: `${gateway.url}/`, total: 300, concurrency: 3 });
    const outcome = tally(results);
    console.log(`[${engine}] 503 backend: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, retried ${gateway.metrics.retries}, 503s seen by the gateway ${overloaded.requests.length}`);
    expect(outcome).toEqual({ 200: 300 });
    expect(results.every((result) => result.body === 'healthy')).toBe(true);
    expect(overloaded.requests.length).toBeGreaterThan(0);
    expect(gateway.metrics.retries).toBe(overloaded.requests.length);
  });

  it('passes the 503 on for a POST without an Idempotency-Key, which is not retried', async () => {
    healthy = await startBackend({ name: 'healthy' });
    overloaded = await startBackend({ handler: (_req, res) => res.writeHead(503).end('overloaded') });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(overloaded, healthy), '--rate-limit=0']);
    const results = await runLoad({ url: `${gateway.url}/orders`, total: 2, concurrency: 1, method: 'POST', body: () => '{}' });
    expect(results.map((result) => result.status)).toEqual([503, 200]);
    expect(healthy.requests).toHaveLength(1);
  });
});
