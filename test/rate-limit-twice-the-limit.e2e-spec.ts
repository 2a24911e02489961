import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

describe('a client sending twice its limit', () => {
  const limit = 5;
  const seconds = 3;
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), `--rate-limit=${limit}`]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('still gets its limit through every second: refused requests do not extend the penalty', async () => {
    // 2 x limit requests per second, evenly paced, for a few seconds.
    const interval = 1000 / (2 * limit);
    const started = Date.now();
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 2 * limit * seconds; i++) {
      const due = started + i * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      const { status } = await request(gateway.url).get('/');
      if (status === 200) accepted++;
      else if (status === 429) refused++;
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    // A limiter whose refusals extend the penalty lets through `limit` per second and a half
    // or less (10 here); one that works lets `limit` through in every second of the run (15),
    // give or take a request lost to timer jitter at each window edge.
    expect(accepted).toBeGreaterThanOrEqual(limit * seconds - 3);
    expect(accepted).toBeLessThanOrEqual(limit * Math.ceil(elapsedSeconds));
    expect(accepted + refused).toBe(2 * limit * seconds);
  });
});
