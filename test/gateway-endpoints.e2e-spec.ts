import { hostname } from 'node:os';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

describe('the gateway’s own endpoints', () => {
  let one: TestBackend;
  let two: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    one = await startBackend();
    two = await startBackend({ handler: (_req, res) => res.writeHead(500).end('boom') });
    gateway = await startGateway([backendsFlag(one, two)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await one?.close();
    await two?.close();
  });

  it('GET /health answers the Go proxy’s liveness shape', async () => {
    const response = await request(gateway.url).get('/health').expect(200).expect('content-type', /json/);
    expect(response.body).toEqual({ status: 'UP', uptime: expect.stringMatching(/^(\d+h)?(\d+m)?\d+s$/) });
    expect(one.requests).toHaveLength(0);
  });

  it('GET /health/ready answers Terminus’s shape with one entry per backend', async () => {
    const response = await request(gateway.url).get('/health/ready').expect(200);
    expect(response.body).toEqual({
      status: 'ok',
      info: {
        [one.url]: { status: 'up', available: true, breaker: 'closed', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
        [two.url]: { status: 'up', available: true, breaker: 'closed', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
      },
      error: {},
      details: {
        [one.url]: { status: 'up', available: true, breaker: 'closed', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
        [two.url]: { status: 'up', available: true, breaker: 'closed', breakerOrigin: 'local', health: 'healthy', healthOrigin: 'local' },
      },
    });
  });

  it('GET /metrics counts proxied requests, whatever the backends answered, and none of its own', async () => {
    await request(gateway.url).get('/a').expect(200);
    await request(gateway.url).get('/b').expect(500);
    await request(gateway.url).get('/c').expect(200);
    await request(gateway.url).get('/health').expect(200);
    const { body } = await request(gateway.url).get('/metrics').expect(200).expect('content-type', /json/);
    expect(body).toEqual({
      instance: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), hostname: hostname(), pid: process.pid },
      requests: 3,
      responses: 3,
      errors: 0,
      aborted: 0,
      inFlight: 0,
      rateLimited: 0,
      retries: 0,
      panicRouted: 0,
      websocketConnections: 0,
      config: { hash: expect.stringMatching(/^[0-9a-f]{16}$/), reloads: { success: 0, failure: 0 } },
      backends: [
        { url: one.url, service: 'default', requests: 2, responses: 2, errors: 0, inFlight: 0, state: 'closed', health: 'healthy', breakerOrigin: 'local', healthOrigin: 'local' },
        { url: two.url, service: 'default', requests: 1, responses: 1, errors: 0, inFlight: 0, state: 'closed', health: 'healthy', breakerOrigin: 'local', healthOrigin: 'local' },
      ],
    });
  });

  it('proxies paths that only look like its own', async () => {
    const before = one.requests.length + two.requests.length;
    const paths = ['/healthz', '/health/', '/metrics/x', '/Health'];
    for (const path of paths) await request(gateway.url).get(path);
    expect(one.requests.length + two.requests.length - before).toBe(paths.length);
  });
});
