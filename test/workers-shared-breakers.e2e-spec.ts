import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { rawRequest } from './support/http.js';
import { killAll, startWorkers, type WorkersGateway } from './support/workers.js';

const COOLDOWN_MS = 1_000;

describe('two workers, one view of the backends through the primary (--workers=2, no Redis)', () => {
  let good: TestBackend;
  let bad: TestBackend;
  let workers: WorkersGateway | undefined;
  const probes: number[] = [];

  beforeAll(async () => {
    good = await startBackend({ name: 'good' });
    bad = await startBackend({
      name: 'bad',
      handler: (_req, res) => {
        probes.push(performance.now());
        res.writeHead(503).end('still broken');
      },
    });
    workers = await startWorkers([
      '--workers=2',
      `--backends=${good.url},${bad.url}`,
      '--rate-limit=0',
      '--breaker-statuses=503',
      '--retries=0',
      `--breaker-cooldown=${COOLDOWN_MS}ms`,
    ]);
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await good?.close();
    await bad?.close();
  });

  it('lets one probe through per cool-down for both workers, not one each', async () => {
    // Fresh connections: the primary deals them to both workers, whose breakers both open.
    for (let i = 0; i < 60; i++) await rawRequest(`${workers!.url}/`);
    await sleep(250);
    probes.length = 0;
    const until = performance.now() + 4.5 * COOLDOWN_MS;
    while (performance.now() < until) {
      await Promise.all([rawRequest(`${workers!.url}/`), rawRequest(`${workers!.url}/`)]);
      await sleep(5);
    }
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.length).toBeLessThanOrEqual(5);
    const gaps = probes.slice(1).map((at, i) => at - probes[i]);
    expect(gaps.filter((gap) => gap < 0.9 * COOLDOWN_MS)).toEqual([]);
  });
});
