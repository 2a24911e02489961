import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

/** One backend, one endpoint of which answers 503 while the rest of it works. */
function partlyFailingBackend() {
  return startBackend({
    handler: (req, res) => {
      if (req.url === '/broken') res.writeHead(503, { 'content-type': 'text/plain' }).end('this endpoint is down');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
    },
  });
}

describe.each(ENGINES)('one endpoint answering 503 (%s)', (engine) => {
  let backend: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await backend?.close();
    gateway = backend = undefined;
  });

  it("opens the breaker by default, yet the backend's other paths keep answering (panic routing)", async () => {
    backend = await partlyFailingBackend();
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend), '--rate-limit=0']);
    // Two client GETs, three tries each: five 503s in a row open the breaker.
    await request(gateway.url).get('/broken').expect(503, 'this endpoint is down');
    await request(gateway.url).get('/broken').expect(503, 'this endpoint is down');
    expect(gateway.metrics.snapshot().backends[0].state).toBe('open');
    for (let i = 0; i < 5; i++) await request(gateway.url).get(`/works/${i}`).expect(200, 'fine');
    expect(gateway.metrics.panicRouted).toBe(5 + 1); // the five, and the last retry of the second GET
  });

  it('with --breaker-statuses=none, counts no status against the breaker', async () => {
    backend = await partlyFailingBackend();
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend), '--rate-limit=0', '--breaker-statuses=none']);
    for (let i = 0; i < 4; i++) await request(gateway.url).get('/broken').expect(503);
    expect(gateway.metrics.snapshot().backends[0]).toMatchObject({ state: 'closed', requests: 12, errors: 8, responses: 4 });
    expect(gateway.metrics.panicRouted).toBe(0);
  });

  it('with --breaker-statuses=500, counts a 500 and not a 503', async () => {
    backend = await startBackend({ handler: (req, res) => res.writeHead(req.url === '/500' ? 500 : 503).end() });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend), '--rate-limit=0', '--breaker-statuses=500', '--breaker-failures=2', '--retries=0']);
    await request(gateway.url).get('/503').expect(503);
    await request(gateway.url).get('/503').expect(503);
    expect(gateway.metrics.snapshot().backends[0].state).toBe('closed');
    await request(gateway.url).get('/500').expect(500);
    await request(gateway.url).get('/500').expect(500);
    expect(gateway.metrics.snapshot().backends[0].state).toBe('open');
  });
});
