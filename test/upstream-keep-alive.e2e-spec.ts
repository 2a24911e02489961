import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('connections to backends (%s)', (engine) => {
  let one: TestBackend;
  let two: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    one = await startBackend();
    two = await startBackend();
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(one, two)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await one?.close();
    await two?.close();
  });

  it('are kept alive and reused, even when every client asks to close its own', async () => {
    // supertest opens a new client connection per request and sends Connection: close.
    for (let i = 0; i < 20; i++) await request(gateway.url).get(`/item/${i}`).expect(200);
    expect(one.requests).toHaveLength(10);
    expect(two.requests).toHaveLength(10);
    expect(one.connections()).toBe(1);
    expect(two.connections()).toBe(1);
  });
});
