import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakerService } from '../src/breaker/circuit-breaker.service.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { runLoad, tally } from './support/load.js';

describe.each(ENGINES)('fault: a backend that hangs (%s)', (engine) => {
  let healthy: TestBackend | undefined;
  let hanging: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await healthy?.close();
    await hanging?.close();
  });

  async function start(flags: string[]) {
    healthy = await startBackend({ name: 'healthy' });
    hanging = await startBackend({ handler: () => {} }); // reads the request, never answers
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(healthy, hanging), '--rate-limit=0', '--breaker-failures=3', '--breaker-cooldown=1m', ...flags]);
    let openedAtMs: number | undefined;
    const started = performance.now();
    gateway.app.get(CircuitBreakerService).onStateChange((backend, state) => {
      if (backend === hanging!.url && state === 'open') openedAtMs ??= performance.now() - started;
    });
    return { openedAt: () => openedAtMs, started };
  }

  it('with the default try timeout, gives 504s only to requests sent to it before its breaker opened', async () => {
    const { openedAt } = await start(['--write-timeout=400ms']);
    const results = await runLoad({ url: `${gateway!.url}/`, total: 120, concurrency: 4 });
    const outcome = tally(results);
    console.log(`[${engine}] hanging backend, default try timeout: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, retried ${gateway!.metrics.retries}`);
    const opened = openedAt();
    expect(opened).toBeDefined();
    const timedOut = results.filter((result) => result.status === 504);
    // The try timeout equals --write-timeout, so nothing is left to retry with: those requests get 504.
    expect(timedOut.length).toBeGreaterThanOrEqual(3);
    expect(timedOut.every((result) => result.sentAtMs < opened!)).toBe(true);
    expect(results.filter((result) => result.sentAtMs > opened!).every((result) => result.status === 200)).toBe(true);
    expect(Object.keys(outcome).sort()).toEqual(['200', '504']);
  });

  it('with a shorter try timeout, retries elsewhere and gives no client an error at all', async () => {
    await start(['--write-timeout=2s', '--try-timeout=150ms']);
    // Three clients, the retries the budget always allows, even if all three time out together.
    const results = await runLoad({ url: `${gateway!.url}/`, total: 120, concurrency: 3 });
    const outcome = tally(results);
    console.log(`[${engine}] hanging backend, --try-timeout=150ms: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, retried ${gateway!.metrics.retries}`);
    expect(outcome).toEqual({ 200: 120 });
    expect(gateway!.metrics.retries).toBeGreaterThanOrEqual(3);
  });
});
