import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('--write-timeout (%s)', (engine) => {
  const writeTimeoutMs = 500;
  let silent: TestBackend;
  let steady: TestBackend;
  let stalling: TestBackend;
  const timers = new Set<NodeJS.Timeout>();
  let silentGateway: TestGateway;
  let steadyGateway: TestGateway;
  let stallingGateway: TestGateway;

  beforeAll(async () => {
    // Never answers.
    silent = await startBackend({ handler: () => {} });
    // A slow but steady download: a chunk every 150 ms for 1.5 s, three times the timeout.
    steady = await startBackend({
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(`chunk ${sent++}\n`);
          if (sent === 10) {
            clearInterval(timer);
            res.end();
          }
        }, 150);
        timers.add(timer);
      },
    });
    // Sends its headers and part of the body, then goes silent.
    stalling = await startBackend({
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100 });
        res.write('only part of it');
      },
    });
    const flags = ['--rate-limit=0', `--write-timeout=${writeTimeoutMs}ms`];
    silentGateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(silent), ...flags]);
    steadyGateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(steady), ...flags]);
    stallingGateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(stalling), ...flags]);
  });

  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    await Promise.all([silentGateway, steadyGateway, stallingGateway].map((gateway) => gateway?.close()));
    await Promise.all([silent, steady, stalling].map((backend) => backend?.close()));
  });

  it('answers 504 near the timeout when a backend sends no response headers', async () => {
    const started = performance.now();
    const response = await request(silentGateway.url).get('/slow').expect(504);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(writeTimeoutMs - 50);
    expect(elapsed).toBeLessThan(writeTimeoutMs + 2_000);
    expect(response.body).toEqual({ statusCode: 504, error: 'Gateway Timeout', message: 'Backend did not respond within 500ms' });
    expect(silentGateway.metrics.snapshot().backends[0].errors).toBe(1);
  });

  it('does not cut a download that keeps flowing for longer than the timeout', async () => {
    const response = await request(steadyGateway.url).get('/download').expect(200);
    expect(response.text.split('\n').filter(Boolean)).toHaveLength(10);
  });

  it('cuts the client connection when a backend goes silent in the middle of a body', async () => {
    const outcome = await new Promise<string>((resolve) => {
      http
        .get(`${stallingGateway.url}/partial`, { agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve('complete'));
          res.on('error', () => resolve('cut'));
          res.on('aborted', () => resolve('cut'));
        })
        .on('error', () => resolve('cut'));
    });
    // A truncated body must never look complete.
    expect(outcome).toBe('cut');
  });
});
