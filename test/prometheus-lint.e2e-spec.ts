import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { freePort } from './support/ports.js';
import { promtoolCheckMetrics } from './support/promtool.js';
import { parseExposition, sampleValue } from './support/prometheus-text.js';

/** Per client address, per second: the scenario's own traffic stays under it, one burst goes over. */
const RATE_LIMIT = 20;

describe('GET /metrics?format=prometheus passes Prometheus’s own linter (promtool check metrics)', () => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    // 200 everywhere, 503 on /unavailable: every status class the scenario needs from one backend.
    backend = await startBackend({
      handler: (req, res) => res.writeHead(req.url === '/unavailable' ? 503 : 200, { 'content-type': 'text/plain' }).end('live'),
    });
    const dead = `http://127.0.0.1:${await freePort()}`;
    gateway = await startGateway([`--backends=${backend.url},${dead}`, '--breaker-failures=1', '--breaker-cooldown=10m', '--retries=2', `--rate-limit=${RATE_LIMIT}`]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('exits 0 and prints nothing, with every gateway series holding samples: requests, a retry, a breaker opening, 5xx and 429s', async () => {
    // Round robin sends one of the first requests to the refusing backend: retried on the live one,
    // and that one refusal opens its breaker.
    for (let i = 0; i < 4; i++) await request(gateway.url).get(`/ok/${i}`).expect(200);
    await request(gateway.url).get('/unavailable').expect(503);
    await request(gateway.url).post('/ok').send('body').expect(200);
    for (let i = 0; i <= RATE_LIMIT; i++) await rawRequest(`${gateway.url}/limited`, { localAddress: '127.0.0.3' });

    const scrape = await request(gateway.url).get('/metrics?format=prometheus').expect(200);
    const exposition = parseExposition(scrape.text);
    // The traffic above did what it says, so the linter sees every kind of series with samples.
    expect(sampleValue(exposition, 'gateway_retries_total')).toBeGreaterThan(0);
    expect(sampleValue(exposition, 'gateway_rate_limited_total')).toBeGreaterThan(0);
    expect(exposition.samples.filter(({ name, labels }) => name === 'gateway_backend_breaker_transitions_total' && labels.to === 'open').some(({ value }) => value > 0)).toBe(true);
    expect(exposition.samples.some(({ name, labels }) => name === 'gateway_requests_total' && labels.status_class === '5xx')).toBe(true);
    expect(exposition.samples.some(({ name }) => name === 'gateway_upstream_duration_seconds_bucket')).toBe(true);

    expect(await promtoolCheckMetrics(scrape.text)).toEqual({ exitCode: 0, output: '' });
  });
});
