import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { runLoad, tally } from './support/load.js';

describe.each(ENGINES)('fault: one backend of three resets every request it reads (%s)', (engine) => {
  const backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
  });

  it('loses no GET of 8 clients sending for 3 s', async () => {
    backends.push(await startBackend({ name: 'one' }));
    backends.push(await startBackend({ handler: (req) => (req.socket as Socket).resetAndDestroy() }));
    backends.push(await startBackend({ name: 'three' }));
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(...backends), '--rate-limit=0']);
    const stopAt = performance.now() + 3_000;
    const results = await runLoad({ url: `${gateway.url}/items`, total: 1_000_000, concurrency: 8, until: () => performance.now() >= stopAt });
    const outcome = tally(results);
    const { retries } = gateway.metrics.snapshot();
    console.log(`[${engine}] resetting backend: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, retried ${retries}`);
    expect(results.length).toBeGreaterThan(1_000);
    expect(outcome).toEqual({ 200: results.length });
    expect(retries).toBeGreaterThan(0);
  });
});
