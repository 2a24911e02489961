import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { runLoad, tally } from './support/load.js';

describe.each(ENGINES)('fault: a backend killed mid-stream (%s)', (engine) => {
  const backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
  });

  it('costs the GET clients nothing: every request is answered 200', async () => {
    // A few milliseconds per answer, so requests are in flight at the victim when it dies.
    for (const name of ['one', 'two', 'three']) {
      backends.push(await startBackend({ name, handler: (_req, res) => setTimeout(() => res.end(name), 2 + Math.random() * 4) }));
    }
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(...backends), '--rate-limit=0']);
    const victim = backends[1];
    let killed = false;
    const results = await runLoad({
      url: `${gateway.url}/items`,
      total: 600,
      // Two requests in flight per backend: within the retry budget's three guaranteed retries.
      concurrency: 6,
      onAnswer: (_result, answered) => {
        if (!killed && answered >= 150) {
          killed = true;
          void victim.close(); // server closed, its sockets destroyed
        }
      },
    });
    const outcome = tally(results);
    const { retries } = gateway.metrics.snapshot();
    console.log(`[${engine}] backend killed: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, retried ${retries}`);
    expect(killed).toBe(true);
    expect(outcome).toEqual({ 200: 600 });
    expect(results.every((result) => ['one', 'two', 'three'].includes(result.body))).toBe(true);
    // Requests to the victim after its death were answered by the others: some needed a retry.
    expect(results.slice(200).some((result) => result.body === 'two')).toBe(false);
  });
});
