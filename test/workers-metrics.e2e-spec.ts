import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { rawRequest } from './support/http.js';
import { runLoad, tally } from './support/load.js';
import { parseExposition } from './support/prometheus-text.js';
import { killAll, startWorkers, type WorkersGateway } from './support/workers.js';

interface WholeSnapshot {
  requests: number;
  responses: number;
  backends: { url: string; requests: number }[];
  workers: { answeredBy: number; restarts: number; processes: { pid: number; requests: number }[] };
}

describe('/metrics with two workers', () => {
  const sent = 300;
  let backend: TestBackend;
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    backend = await startBackend();
    workers = await startWorkers(['--workers=2', `--backends=${backend.url}`, '--rate-limit=0']);
    // Keep-alive connections and fresh ones: the primary deals connections to both workers.
    const keptAlive = await runLoad({ url: `${workers.url}/a`, total: sent / 2, concurrency: 6 });
    const fresh = await runLoad({ url: `${workers.url}/b`, total: sent / 2, concurrency: 4, freshConnections: true });
    expect(tally([...keptAlive, ...fresh])).toEqual({ 200: sent });
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await backend?.close();
  });

  it('answers JSON totals that are the sum of every request sent, whichever worker answers the scrape', async () => {
    const answeredBy = new Set<number>();
    for (let scrape = 0; scrape < 6; scrape++) {
      // A connection of its own each time: the primary hands them to the workers in turn.
      const metrics = JSON.parse((await rawRequest(`${workers!.url}/metrics`)).body.toString()) as WholeSnapshot;
      expect(metrics).toMatchObject({ requests: sent, responses: sent, backends: [{ url: backend.url, requests: sent }] });
      expect(metrics.workers.processes).toHaveLength(2);
      expect(metrics.workers.processes.reduce((sum, worker) => sum + worker.requests, 0)).toBe(sent);
      for (const worker of metrics.workers.processes) expect(worker.requests).toBeGreaterThan(0);
      answeredBy.add(metrics.workers.answeredBy);
    }
    expect(answeredBy.size).toBe(2);
  });

  it('answers Prometheus text whose request counter and histogram count every request sent, with the restarts counter', async () => {
    for (let scrape = 0; scrape < 4; scrape++) {
      const response = await rawRequest(`${workers!.url}/metrics?format=prometheus`);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      const { samples, families } = parseExposition(response.body.toString());
      const requests = samples.filter((sample) => sample.name === 'gateway_requests_total').reduce((sum, sample) => sum + sample.value, 0);
      expect(requests).toBe(sent);
      expect(samples.find((sample) => sample.name === 'gateway_request_duration_seconds_count')?.value).toBe(sent);
      expect(samples.find((sample) => sample.name === 'gateway_worker_restarts_total')?.value).toBe(0);
      expect(samples.find((sample) => sample.name === 'gateway_workers')?.value).toBe(2);
      // One breaker per backend and worker, shown as the worst of them, never as a sum.
      expect(samples.find((sample) => sample.name === 'gateway_backend_breaker_state')?.value).toBe(0);
      expect(families.get('gateway_requests_total')?.type).toBe('counter');
    }
  });
});
