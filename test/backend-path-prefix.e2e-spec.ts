import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('a backend URL with a path prefix (%s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([`--proxy-engine=${engine}`, `--backends=${backend.url}/api/`]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it.each([
    ['/users', '/api/users'],
    ['/users/7?x=1', '/api/users/7?x=1'],
    ['/', '/api/'],
  ])('forwards %s to %s', async (path, expected) => {
    await request(gateway.url).get(path).expect(200);
    expect(backend.requests.at(-1)!.url).toBe(expected);
  });
});
