import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { type Exposition, histogramSeries, parseExposition, sampleValue } from './support/prometheus-text.js';
import { freePort } from './support/ports.js';

/** What a Prometheus server sends when it scrapes. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';
const BUCKETS = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
/** Per client address, per second: high enough for the scenario's own traffic, low enough to reach. */
const RATE_LIMIT = 20;

describe.each(ENGINES)('GET /metrics for Prometheus (%s)', (engine) => {
  let backend: TestBackend;
  let deadUrl: string;
  let gateway: TestGateway;

  async function scrape(): Promise<{ text: string; exposition: Exposition }> {
    const response = await request(gateway.url).get('/metrics').set('Accept', PROMETHEUS_ACCEPT).expect(200);
    expect(response.headers['content-type']).toBe(TEXT_FORMAT);
    return { text: response.text, exposition: parseExposition(response.text) };
  }

  function requestsTotal(exposition: Exposition, backendLabel: string, method: string, statusClass: string): number {
    return sampleValue(exposition, 'gateway_requests_total', { service: 'default', backend: backendLabel, method, status_class: statusClass }) ?? 0;
  }

  beforeAll(async () => {
    backend = await startBackend({ name: 'live' });
    deadUrl = `http://127.0.0.1:${await freePort()}`;
    gateway = await startGateway([
      `--backends=${backend.url},${deadUrl}`,
      `--proxy-engine=${engine}`,
      // One refused connection opens the dead backend's breaker, for the rest of the scenario;
      // without retries, the request that found it dead is answered 502.
      '--breaker-failures=1',
      '--breaker-cooldown=10m',
      '--retries=0',
      `--rate-limit=${RATE_LIMIT}`,
      // Any method, so an uncommon one (PURGE) is proxied and counted.
      '--allowed-methods=*',
    ]);
    // Round robin sends one of the first two requests to the dead backend.
    const first = await request(gateway.url).get('/warm-up');
    const second = await request(gateway.url).get('/warm-up');
    expect([first.status, second.status].sort((a, b) => a - b)).toEqual([200, 502]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('answers JSON to curl’s and a browser’s Accept, and the text format to Prometheus’s Accept and to ?format=prometheus', async () => {
    const curl = await request(gateway.url).get('/metrics').set('Accept', '*/*').expect(200).expect('content-type', /application\/json/);
    expect(curl.body).toMatchObject({ requests: expect.any(Number), backends: expect.any(Array) });
    await request(gateway.url).get('/metrics').set('Accept', BROWSER_ACCEPT).expect(200).expect('content-type', /application\/json/);
    await request(gateway.url).get('/metrics?format=json').set('Accept', PROMETHEUS_ACCEPT).expect('content-type', /application\/json/);

    const prometheus = await request(gateway.url).get('/metrics').set('Accept', PROMETHEUS_ACCEPT).expect(200).expect('vary', /Accept/);
    expect(prometheus.headers['content-type']).toBe(TEXT_FORMAT);
    expect(prometheus.text).toContain('# TYPE gateway_requests_total counter');
    const byQuery = await request(gateway.url).get('/metrics?format=prometheus').set('Accept', '*/*').expect(200);
    expect(byQuery.headers['content-type']).toBe(TEXT_FORMAT);
    expect(byQuery.text).toContain('# TYPE gateway_requests_total counter');
  });

  it('parses with a Prometheus text parser, every family with its HELP and TYPE, the gateway’s and Node’s', async () => {
    const { exposition } = await scrape();
    for (const family of exposition.families.values()) {
      expect(family.help, family.name).not.toBe('');
      expect(family.type, family.name).not.toBe('untyped');
    }
    expect(Object.fromEntries([...exposition.families.values()].filter(({ name }) => name.startsWith('gateway_')).map(({ name, type }) => [name, type]))).toEqual({
      gateway_instance_info: 'gauge',
      gateway_requests_total: 'counter',
      gateway_request_duration_seconds: 'histogram',
      gateway_upstream_duration_seconds: 'histogram',
      gateway_requests_in_flight: 'gauge',
      gateway_websocket_connections: 'gauge',
      gateway_retries_total: 'counter',
      gateway_rate_limited_total: 'counter',
      gateway_panic_routed_total: 'counter',
      gateway_log_lines_dropped_total: 'counter',
      gateway_config_reloads_total: 'counter',
      gateway_config_info: 'gauge',
      gateway_backend_breaker_state: 'gauge',
      gateway_backend_breaker_transitions_total: 'counter',
      gateway_backend_healthy: 'gauge',
    });
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'nodejs_active_handles', 'process_cpu_seconds_total']) {
      expect(exposition.families.has(name), name).toBe(true);
    }
  });

  it('counts N requests under their backend, method and 2xx, and in both duration histograms, whose buckets run from 1 ms to 10 s', async () => {
    const N = 6;
    const before = (await scrape()).exposition;
    const startedAt = performance.now();
    for (let i = 0; i < N; i++) await request(gateway.url).get(`/count/${i}`).expect(200);
    await request(gateway.url).delete('/count').expect(200);
    await rawRequest(`${gateway.url}/count`, { method: 'PURGE' });
    const elapsedSeconds = (performance.now() - startedAt) / 1000;
    const after = (await scrape()).exposition;

    expect(requestsTotal(after, backend.url, 'GET', '2xx') - requestsTotal(before, backend.url, 'GET', '2xx')).toBe(N);
    expect(requestsTotal(after, backend.url, 'DELETE', '2xx') - requestsTotal(before, backend.url, 'DELETE', '2xx')).toBe(1);
    // Methods beyond the common ones share one label value: clients cannot mint series.
    expect(requestsTotal(after, backend.url, 'other', '2xx') - requestsTotal(before, backend.url, 'other', '2xx')).toBe(1);
    expect(after.samples.some(({ labels }) => labels.method === 'PURGE')).toBe(false);

    for (const [name, labels] of [
      ['gateway_request_duration_seconds', {}],
      ['gateway_upstream_duration_seconds', { service: 'default', backend: backend.url }],
    ] as const) {
      const then = histogramSeries(before, name, labels);
      const now = histogramSeries(after, name, labels);
      expect(now, name).toBeDefined();
      expect([...(now?.buckets.keys() ?? [])], name).toEqual(BUCKETS);
      const counts = [...(now?.buckets.values() ?? [])];
      expect(counts, `${name} buckets are cumulative`).toEqual([...counts].sort((a, b) => a - b));
      expect(now?.buckets.get('+Inf'), name).toBe(now?.count);
      expect((now?.count ?? 0) - (then?.count ?? 0), name).toBe(N + 2);
      // In seconds: the gateway's time for each request lies within the client's round trip.
      const sum = (now?.sum ?? 0) - (then?.sum ?? 0);
      expect(sum, name).toBeGreaterThan(0);
      expect(sum, name).toBeLessThanOrEqual(elapsedSeconds);
    }
  });

  it('counts the 502 of a backend that refused the connection under 5xx, shows its breaker open (2) and counts the transition', async () => {
    const { exposition } = await scrape();
    expect(requestsTotal(exposition, deadUrl, 'GET', '5xx')).toBe(1);
    expect(requestsTotal(exposition, backend.url, 'GET', '5xx')).toBe(0);
    // No backend answered it, so it has no upstream duration.
    expect(histogramSeries(exposition, 'gateway_upstream_duration_seconds', { service: 'default', backend: deadUrl })).toBeUndefined();

    expect(sampleValue(exposition, 'gateway_backend_breaker_state', { service: 'default', backend: deadUrl })).toBe(2);
    expect(sampleValue(exposition, 'gateway_backend_breaker_state', { service: 'default', backend: backend.url })).toBe(0);
    expect(sampleValue(exposition, 'gateway_backend_breaker_transitions_total', { service: 'default', backend: deadUrl, to: 'open' })).toBe(1);
    expect(sampleValue(exposition, 'gateway_backend_breaker_transitions_total', { service: 'default', backend: backend.url, to: 'open' })).toBe(0);
    // Active health checks are off in the tests: both count as healthy.
    expect(sampleValue(exposition, 'gateway_backend_healthy', { service: 'default', backend: deadUrl })).toBe(1);
    expect(sampleValue(exposition, 'gateway_backend_healthy', { service: 'default', backend: backend.url })).toBe(1);
  });

  it('counts the rate limiter’s 429s, and no retries when they are off', async () => {
    const before = (await scrape()).exposition;
    const statuses: number[] = [];
    // From an address of its own, so the scenario's other requests keep their allowance.
    for (let i = 0; i <= RATE_LIMIT + 2; i++) statuses.push((await rawRequest(`${gateway.url}/limited`, { localAddress: '127.0.0.3' })).status);
    const refused = statuses.filter((status) => status === 429).length;
    expect(refused).toBeGreaterThan(0);
    const after = (await scrape()).exposition;
    expect((sampleValue(after, 'gateway_rate_limited_total') ?? 0) - (sampleValue(before, 'gateway_rate_limited_total') ?? 0)).toBe(refused);
    expect(sampleValue(after, 'gateway_retries_total')).toBe(0);
  });

  it('shows no request in flight at rest', async () => {
    await request(gateway.url).get('/settled').expect(200);
    const { exposition } = await scrape();
    expect(sampleValue(exposition, 'gateway_requests_in_flight')).toBe(0);
  });

  it('never puts a path, a query string or a client address in a label value', async () => {
    const secret = `tok-${Date.now()}`;
    const paths = [1, 2, 3].map((i) => `/secret-path-${i}${secret}?token=${secret}&user=alice`);
    for (const path of paths) {
      await rawRequest(`${gateway.url}${path}`, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } });
      await rawRequest(`${gateway.url}${path}`, { localAddress: '127.0.0.1' });
    }
    const { text, exposition } = await scrape();
    expect(text).not.toContain('secret-path');
    expect(text).not.toContain(secret);
    for (const { name, labels } of exposition.samples) {
      for (const [label, value] of Object.entries(labels)) {
        const where = `${name}{${label}="${value}"}`;
        expect(value, where).not.toMatch(/secret-path|token=|alice|\?|127\.0\.0\.2|203\.0\.113\.9/);
        // A client on 127.0.0.1 shares its address with the backends: allowed only as a backend URL.
        if (value.includes('127.0.0.1')) {
          expect(label, where).toBe('backend');
          expect([backend.url, deadUrl], where).toContain(value);
        }
      }
    }
  });
});
