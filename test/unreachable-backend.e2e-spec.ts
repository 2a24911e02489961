import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';
import { freePort } from './support/ports.js';

describe.each(ENGINES)('a backend with nothing listening (%s)', (engine) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startGateway([`--proxy-engine=${engine}`, `--backends=http://127.0.0.1:${await freePort()}`]);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('gets the client a 502 in Nest’s error shape after its retries, counted as a gateway error', async () => {
    const response = await request(gateway.url).get('/anything').expect(502).expect('content-type', /json/);
    expect(response.body).toEqual({ statusCode: 502, error: 'Bad Gateway', message: 'Error forwarding request' });
    const metrics = (await request(gateway.url).get('/metrics')).body;
    // The first try and --retries (2) more, on the only backend there is.
    expect(metrics).toMatchObject({ requests: 1, responses: 0, errors: 1, inFlight: 0, retries: 2 });
    expect(metrics.backends[0]).toMatchObject({ requests: 3, responses: 0, errors: 3, inFlight: 0 });
  });
});
