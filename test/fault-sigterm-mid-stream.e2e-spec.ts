import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { runLoad, tally } from './support/load.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('fault: SIGTERM in the middle of a stream of requests (%s)', (engine) => {
  let backend: TestBackend;

  beforeAll(async () => {
    // Slow enough that requests are in flight when the signal comes.
    backend = await startBackend({ handler: (_req, res) => setTimeout(() => res.end('x'.repeat(10_000)), 20) });
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('turns readiness 503 at once, keeps serving for --drain-delay, and completes every request that reached it', async () => {
    // The access log is on: it tells which requests reached the gateway, and how each ended.
    const gateway = spawnGateway([`--proxy-engine=${engine}`, '--listen=127.0.0.1:0', `--backends=${backend.url}`, '--rate-limit=0', '--drain-delay=300ms']);
    const port = await gateway.listening;
    const base = `http://127.0.0.1:${port}`;
    let signalledAt: number | undefined;
    let readyDuringDrain: number | undefined;
    /** Readiness a moment after the signal (which the gateway gets asynchronously), still within the drain delay. */
    const readinessAfterSignal = async () => {
      for (let waited = 0; waited < 200; waited += 20) {
        readyDuringDrain = (await rawRequest(`${base}/health/ready`)).status;
        if (readyDuringDrain === 503) return;
        await sleep(20);
      }
    };
    const started = performance.now();
    const results = await runLoad({
      url: `${base}/work`,
      total: 1_500,
      concurrency: 6,
      freshConnections: true,
      requestTimeoutMs: 5_000,
      onAnswer: (_result, answered) => {
        if (answered === 100 && signalledAt === undefined) {
          signalledAt = performance.now() - started;
          gateway.child.kill('SIGTERM');
          void readinessAfterSignal();
        }
      },
    });
    expect(await gateway.exited).toBe(0);
    const outcome = tally(results);
    const servedAfterSignal = results.filter((result) => result.status === 200 && result.sentAtMs > signalledAt! + 50).length;
    console.log(
      `SIGTERM mid-stream: sent ${results.length}, outcomes ${JSON.stringify(outcome)}, served after the signal ${servedAfterSignal}, readiness during the drain ${readyDuringDrain}`,
    );
    expect(readyDuringDrain).toBe(503);
    // The drain delay kept serving after the signal.
    expect(servedAfterSignal).toBeGreaterThan(0);
    // Every answer is complete: nothing truncated, nothing but 200.
    expect(results.filter((result) => result.status !== undefined).every((result) => result.status === 200 && result.body.length === 10_000)).toBe(true);
    // Every request that reached the gateway is in its access log, answered 200 by the backend:
    // none was cut (it would be logged 499) or failed (5xx).
    const logged = gateway
      .output()
      .stdout.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; status: number; url: string })
      .filter((entry) => entry.msg === 'request completed');
    expect(logged.filter((entry) => entry.url === '/work').map((entry) => entry.status)).toEqual(Array(outcome[200]).fill(200));
    expect(backend.requests.length).toBe(outcome[200]);
    // The other requests never reached it: refused once the listener closed, or reset while still
    // in the kernel's accept queue when it closed (the same race every server has at that moment).
    expect(Object.keys(outcome).filter((key) => !['200', 'ECONNREFUSED', 'ECONNRESET'].includes(key))).toEqual([]);
    expect(outcome.ECONNRESET ?? 0).toBeLessThanOrEqual(6);
  });
});
