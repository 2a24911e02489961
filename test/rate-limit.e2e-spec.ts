import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

describe('rate limiting a proxied path', () => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=3']);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('answers 429 with a JSON body, Retry-After and the X-RateLimit headers past the limit', async () => {
    const statuses: number[] = [];
    let refused: request.Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await request(gateway.url).get('/limited');
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(backend.requests).toHaveLength(3);
    expect(refused!.headers['content-type']).toMatch(/^application\/json/);
    expect(refused!.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Rate limit of 3 requests per second exceeded',
    });
    // Whole seconds until the one-second window frees a slot.
    expect(refused!.headers['retry-after']).toBe('1');
    expect(refused!.headers['x-ratelimit-limit']).toBe('3');
    expect(refused!.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(refused!.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
    expect(gateway.metrics.rateLimited).toBe(2);
  });

  it('never limits the gateway’s own endpoints, even for a client over its limit', async () => {
    for (let i = 0; i < 10; i++) {
      await request(gateway.url).get('/health').expect(200);
      await request(gateway.url).get('/health/ready').expect(200);
      await request(gateway.url).get('/metrics').expect(200);
    }
  });
});
