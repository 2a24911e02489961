import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';
import { freePort } from './support/ports.js';

describe.each(ENGINES)('every backend down (%s)', (engine) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    const ports = [await freePort(), await freePort()];
    gateway = await startGateway([`--proxy-engine=${engine}`, 
      `--backends=${ports.map((port) => `http://127.0.0.1:${port}`).join(',')}`,
      '--breaker-failures=2',
      '--breaker-cooldown=1m',
      '--rate-limit=0',
    ]);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('answers 502 while the backends are being tried, then 503 at once when every breaker is open', async () => {
    // Each request tries both backends (failover), so two requests open both breakers.
    for (let i = 0; i < 2; i++) {
      const response = await request(gateway.url).get('/').expect(502);
      expect(response.body).toEqual({ statusCode: 502, error: 'Bad Gateway', message: 'Error forwarding request' });
    }
    expect(gateway.metrics.snapshot().backends.map((backend) => backend.state)).toEqual(['open', 'open']);

    const started = performance.now();
    const response = await request(gateway.url).get('/').expect(503);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(response.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'No backend available' });
    const ready = await request(gateway.url).get('/health/ready').expect(503);
    expect(ready.body.status).toBe('error');
    expect(Object.values(ready.body.details)).toEqual([
      { status: 'down', available: false, breaker: 'open', health: 'healthy' },
      { status: 'down', available: false, breaker: 'open', health: 'healthy' },
    ]);
  });
});
