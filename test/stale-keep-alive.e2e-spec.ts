import type { Socket } from 'node:net';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('a pooled connection the backend has dropped (%s)', (engine) => {
  let flaky: TestBackend;
  let healthy: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    // Answers the first request on each connection; resets the connection on any later one,
    // which is what the gateway sees when a backend closed an idle keep-alive connection.
    const served = new WeakSet<Socket>();
    flaky = await startBackend({
      name: 'flaky',
      handler: (req, res) => {
        if (served.has(req.socket)) {
          req.socket.destroy();
          return;
        }
        served.add(req.socket);
        res.end('flaky');
      },
    });
    healthy = await startBackend({ name: 'healthy' });
  });

  // A fresh gateway per test, so each starts with no pooled connections and the same rotation.
  beforeEach(async () => {
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(flaky, healthy), '--rate-limit=0']);
  });

  afterEach(async () => {
    await gateway?.close();
  });

  afterAll(async () => {
    await flaky?.close();
    await healthy?.close();
  });

  it('sends a request without a body on to the next backend, so the client sees no error', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await request(gateway.url).get(`/item/${i}`).expect(200)).text);
    // 1st to flaky (new connection), 2nd healthy, 3rd flaky on the reused connection: reset, sent
    // on to healthy; 4th flaky again, on a new connection.
    expect(bodies).toEqual(['flaky', 'healthy', 'healthy', 'flaky']);
    expect(gateway.metrics.snapshot().backends[0].errors).toBe(1);
  });

  it('does not resend a request with a body: its client gets 502', async () => {
    // Flaky, then healthy; the POST goes to flaky on its already-used connection.
    expect((await request(gateway.url).get('/a')).text).toBe('flaky');
    expect((await request(gateway.url).get('/b')).text).toBe('healthy');
    const before = healthy.requests.length;
    const response = await rawRequest(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":1}',
    });
    expect([response.status, healthy.requests.length - before]).toEqual([502, 0]);
  });
});
