import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('what passes through the gateway (%s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({
      handler: (req, res) => {
        if (req.url?.startsWith('/teapot')) {
          res.writeHead(418, 'Short And Stout', [
            'Content-Type', 'text/plain',
            'X-Backend-Header', 'kept',
            'Set-Cookie', 'a=1; Path=/',
            'Set-Cookie', 'b=2; Path=/',
            'Connection', 'close, X-Backend-Private',
            'X-Backend-Private', 'hop',
            'Keep-Alive', 'timeout=5',
          ]);
          res.end('short and stout');
          return;
        }
        res.writeHead(201, { location: '/things/1', 'content-type': 'application/json' });
        res.end('{"created":true}');
      },
    });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('forwards method, path and query unchanged', async () => {
    await rawRequest(`${gateway.url}/things/7/parts?sort=-name&q=a%20b&q=c`, { method: 'PATCH', body: 'x' });
    const received = backend.requests.at(-1)!;
    expect(received.method).toBe('PATCH');
    expect(received.url).toBe('/things/7/parts?sort=-name&q=a%20b&q=c');
  });

  it('keeps the client’s Host and end-to-end headers, sets X-Forwarded-*, drops hop-by-hop headers', async () => {
    await rawRequest(`${gateway.url}/headers`, {
      headers: {
        host: 'api.example.test',
        'x-request-id': 'abc-123',
        authorization: 'Bearer t',
        'x-forwarded-for': '198.51.100.7',
        'x-forwarded-proto': 'https',
        connection: 'keep-alive, X-Client-Private',
        'x-client-private': 'hop',
        'keep-alive': 'timeout=30',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        upgrade: 'h2c',
        te: 'gzip',
      },
    });
    const headers = backend.requests.at(-1)!.headers;
    expect(headers.host).toBe('api.example.test');
    expect(headers['x-request-id']).toBe('abc-123');
    expect(headers.authorization).toBe('Bearer t');
    expect(headers['x-forwarded-for']).toBe('198.51.100.7, 127.0.0.1');
    // Without --trust-proxy the client's own claim about the scheme is not believed.
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('api.example.test');
    for (const hop of ['x-client-private', 'keep-alive', 'proxy-authorization', 'upgrade', 'te']) {
      expect(headers, hop).not.toHaveProperty(hop);
    }
    // The gateway's pooled connection to the backend is its own business, not the client's.
    expect(headers.connection).not.toMatch(/x-client-private/i);
  });

  it('returns the backend’s status, reason phrase, headers and body, without its hop-by-hop headers', async () => {
    const keepAlive = new http.Agent({ keepAlive: true });
    const response = await rawRequest(`${gateway.url}/teapot`, { agent: keepAlive });
    keepAlive.destroy();
    expect(response.status).toBe(418);
    expect(response.statusMessage).toBe('Short And Stout');
    expect(response.body.toString()).toBe('short and stout');
    expect(response.headers['x-backend-header']).toBe('kept');
    expect(response.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(response.headers).not.toHaveProperty('x-backend-private');
    // The backend closing its connection must not close the client's.
    expect(response.headers.connection).not.toBe('close');
  });

  it('passes a 201 with its Location through', async () => {
    const response = await rawRequest(`${gateway.url}/things`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe('/things/1');
    expect(JSON.parse(response.body.toString())).toEqual({ created: true });
  });
});
