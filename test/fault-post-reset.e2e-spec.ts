import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { runLoad, tally } from './support/load.js';

describe.each(ENGINES)('fault: a backend that resets after reading a POST (%s)', (engine) => {
  let healthy: TestBackend | undefined;
  let crashing: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await healthy?.close();
    await crashing?.close();
  });

  async function start() {
    healthy = await startBackend({ name: 'healthy' });
    // Reads the whole body (the backend may have acted on it), then drops the connection.
    crashing = await startBackend({ handler: (req) => req.socket.destroy() });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(healthy, crashing), '--rate-limit=0', '--breaker-failures=1000']);
  }

  it('does not send that POST to another backend: its client gets 502', async () => {
    await start();
    const results = await runLoad({ url: `${gateway!.url}/orders`, total: 40, concurrency: 4, method: 'POST', body: (i) => `{"order":${i}}` });
    const outcome = tally(results);
    console.log(`[${engine}] POST reset: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, retried ${gateway!.metrics.retries}`);
    // Every POST reached exactly one backend, never two.
    expect(healthy!.requests.length + crashing!.requests.length).toBe(40);
    expect(outcome).toEqual({ 200: healthy!.requests.length, 502: crashing!.requests.length });
    expect(gateway!.metrics.retries).toBe(0);
  });

  it('does retry a POST that carries an Idempotency-Key', async () => {
    await start();
    const results = await runLoad({
      url: `${gateway!.url}/orders`,
      total: 40,
      // Within the three pending retries the budget always allows.
      concurrency: 3,
      method: 'POST',
      headers: { 'idempotency-key': 'order-42', 'content-type': 'application/json' },
      body: (i) => `{"order":${i}}`,
    });
    expect(tally(results)).toEqual({ 200: 40 });
    // The retried bodies arrived intact at the healthy backend.
    expect(new Set(healthy!.requests.map((request) => request.body.toString())).size).toBe(40);
  });
});
