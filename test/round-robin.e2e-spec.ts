import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('round robin across backends (%s)', (engine) => {
  let one: TestBackend;
  let two: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    one = await startBackend({ name: 'Response from server 1' });
    two = await startBackend({ name: 'Response from server 2' });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(one, two)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await one?.close();
    await two?.close();
  });

  it('sends consecutive requests to the backends in turn, whatever the path and method', async () => {
    const bodies: string[] = [];
    for (const [method, path] of [
      ['get', '/'],
      ['get', '/users/7'],
      ['post', '/orders'],
      ['delete', '/orders/1'],
      ['put', '/a/b/c'],
      ['get', '/'],
    ] as const) {
      const response = await request(gateway.url)[method](path).expect(200);
      bodies.push(response.text);
    }
    expect(bodies).toEqual([
      'Response from server 1',
      'Response from server 2',
      'Response from server 1',
      'Response from server 2',
      'Response from server 1',
      'Response from server 2',
    ]);
    expect(one.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /', 'POST /orders', 'PUT /a/b/c']);
    expect(two.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /users/7', 'DELETE /orders/1', 'GET /']);
  });
});
