import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

describe('--admin-listen', () => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({ handler: (req, res) => res.end(`backend saw ${req.url}`) });
    gateway = await startGateway([backendsFlag(backend), '--admin-listen=127.0.0.1:0']);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('serves the gateway’s own endpoints on the admin address', async () => {
    expect(gateway.adminUrl).toBeDefined();
    expect((await request(gateway.adminUrl!).get('/health').expect(200)).body.status).toBe('UP');
    await request(gateway.adminUrl!).get('/health/ready').expect(200);
    expect((await request(gateway.adminUrl!).get('/metrics').expect(200)).body).toHaveProperty('requests');
  });

  it('proxies those paths on the main listener like any other', async () => {
    for (const path of ['/health', '/health/ready', '/metrics']) {
      const response = await request(gateway.url).get(path).expect(200);
      expect(response.text).toBe(`backend saw ${path}`);
    }
  });

  it('does not proxy from the admin address', async () => {
    await request(gateway.adminUrl!).get('/anything-else').expect(404);
    expect(backend.requests.map((r) => r.url)).not.toContain('/anything-else');
  });
});
