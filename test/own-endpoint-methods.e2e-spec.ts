import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

const OWN_PATHS = ['/health', '/health/ready', '/metrics', '/status'];

describe('methods on the gateway’s own endpoints', () => {
  let backend: TestBackend;
  let gateway: TestGateway;
  let withAdmin: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({ handler: (req, res) => res.end(`backend saw ${req.method} ${req.url}`) });
    gateway = await startGateway([backendsFlag(backend)]);
    withAdmin = await startGateway([backendsFlag(backend), '--admin-listen=127.0.0.1:0']);
  });

  afterAll(async () => {
    await gateway?.close();
    await withAdmin?.close();
    await backend?.close();
  });

  it.each(OWN_PATHS.flatMap((path) => ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].map((method) => [method, path])))(
    'answers %s %s with 405, Allow: GET, HEAD and the JSON error shape',
    async (method, path) => {
      const response = await rawRequest(`${gateway.url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
      expect(JSON.parse(response.body.toString())).toEqual({
        statusCode: 405,
        error: 'Method Not Allowed',
        message: `${method} is not allowed here; allowed: GET, HEAD`,
      });
    },
  );

  it.each(OWN_PATHS)('answers GET and HEAD %s', async (path) => {
    const get = await rawRequest(`${gateway.url}${path}`);
    const head = await rawRequest(`${gateway.url}${path}`, { method: 'HEAD' });
    expect(get.status === 200 || get.status === 503).toBe(true);
    expect(head.status).toBe(get.status);
    expect(head.body.length).toBe(0);
  });

  it('sends none of them to a backend', () => {
    expect(backend.requests.filter((seen) => OWN_PATHS.includes(seen.url))).toEqual([]);
  });

  it('answers 405 on the admin listener too, and proxies every method of those paths on the main one', async () => {
    const admin = await rawRequest(`${withAdmin.adminUrl}/health`, { method: 'POST', body: '{}' });
    expect([admin.status, admin.headers.allow]).toEqual([405, 'GET, HEAD']);
    const proxied = await rawRequest(`${withAdmin.url}/health`, { method: 'POST', body: '{}' });
    expect([proxied.status, proxied.body.toString()]).toEqual([200, 'backend saw POST /health']);
  });
});
