import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { freePort } from './support/ports.js';

describe.each(ENGINES)('every breaker open: panic routing (%s)', (engine) => {
  let gateway: TestGateway;
  let ports: number[];
  let revived: TestBackend | undefined;

  beforeAll(async () => {
    ports = [await freePort(), await freePort()];
    gateway = await startGateway([
      `--proxy-engine=${engine}`,
      `--backends=${ports.map((port) => `http://127.0.0.1:${port}`).join(',')}`,
      '--breaker-failures=2',
      '--breaker-cooldown=1m',
      '--rate-limit=0',
    ]);
  });

  afterAll(async () => {
    await gateway?.close();
    await revived?.close();
  });

  it('keeps sending to the backends when every breaker is open, and answers from the first that is back', async () => {
    // Each request tries both backends (failover), so two requests open both breakers.
    for (let i = 0; i < 2; i++) {
      const response = await request(gateway.url).get('/').expect(502);
      expect(response.body).toEqual({ statusCode: 502, error: 'Bad Gateway', message: 'Error forwarding request' });
    }
    expect(gateway.metrics.snapshot().backends.map((backend) => backend.state)).toEqual(['open', 'open']);
    const readyWhileOut = await request(gateway.url).get('/health/ready').expect(503);
    expect(Object.values(readyWhileOut.body.details)).toEqual([
      { status: 'down', available: false, breaker: 'open', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
      { status: 'down', available: false, breaker: 'open', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
    ]);

    // Not "503 No backend available" at once: the requests still go to the backends, and fail there.
    const tried = gateway.metrics.snapshot().backends.map((backend) => backend.requests);
    await request(gateway.url).get('/').expect(502);
    const triedAfter = gateway.metrics.snapshot().backends.map((backend) => backend.requests);
    expect(triedAfter[0] + triedAfter[1]).toBeGreaterThan(tried[0] + tried[1]);
    expect(gateway.metrics.panicRouted).toBeGreaterThan(0);

    // A backend comes back well within the cool-down: its clients get answers at once.
    revived = await startBackend({ name: 'back', port: ports[1] });
    for (let i = 0; i < 4; i++) expect((await request(gateway.url).get(`/again/${i}`).expect(200)).text).toBe('back');
    expect(gateway.metrics.snapshot().backends.map((backend) => backend.state)).toEqual(['open', 'open']);
    const { body } = await request(gateway.url).get('/metrics').expect(200);
    expect(body.panicRouted).toBe(gateway.metrics.panicRouted);
  });
});
