import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { rawRequest } from './support/http.js';
import { killAll, startWorkers, type WorkersGateway } from './support/workers.js';

/** One GET; its status, or the socket error's code. */
function get(url: string, agent: http.Agent | false): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('one client over many connections to two workers, at twice its limit', () => {
  const limit = 50;
  const seconds = 3;
  let backend: TestBackend;
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    backend = await startBackend();
    workers = await startWorkers(['--workers=2', `--backends=${backend.url}`, `--rate-limit=${limit}`]);
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await backend?.close();
  });

  it('gets its limit, not a limit per worker: the workers count in the primary\'s one window', async () => {
    // 20 keep-alive connections (the primary deals connections to the workers in turn, so both get
    // some) and every fifth request on a connection of its own; 2 x limit a second, evenly paced.
    const agents = Array.from({ length: 20 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const interval = 1000 / (2 * limit);
    const total = 2 * limit * seconds;
    const outcomes: Promise<number | string>[] = [];
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + i * interval;
      if (due > performance.now()) await sleep(due - performance.now());
      outcomes.push(get(`${workers!.url}/`, i % 5 === 4 ? false : agents[i % agents.length]));
    }
    const elapsedSeconds = (performance.now() - started) / 1000 + interval / 1000;
    const results = await Promise.all(outcomes);
    for (const agent of agents) agent.destroy();
    const accepted = results.filter((status) => status === 200).length;
    const refused = results.filter((status) => status === 429).length;
    expect(accepted + refused).toBe(total);
    // The sliding window lets through at least N/(N+1) ≈ 95 % of the limit to a steady sender;
    // each worker counting alone would let through about twice the limit.
    const share = accepted / (limit * seconds);
    expect(share, `${accepted} accepted in ${elapsedSeconds.toFixed(2)}s`).toBeGreaterThanOrEqual(0.95);
    expect(share, `${accepted} accepted in ${elapsedSeconds.toFixed(2)}s`).toBeLessThanOrEqual(1.1);
    // No interval of one second ever admits more than the limit.
    expect(accepted).toBeLessThanOrEqual(limit * Math.ceil(elapsedSeconds));

    // Both workers served some of them (each worker's own count, as the primary reports it).
    const metrics = JSON.parse((await rawRequest(`${workers!.url}/metrics`)).body.toString()) as {
      requests: number;
      rateLimited: number;
      workers: { processes: { pid: number; requests: number }[] };
    };
    expect(metrics.requests).toBe(accepted);
    expect(metrics.rateLimited).toBe(refused);
    expect(metrics.workers.processes).toHaveLength(2);
    for (const worker of metrics.workers.processes) expect(worker.requests, `worker ${worker.pid}`).toBeGreaterThan(0);
  });
});
