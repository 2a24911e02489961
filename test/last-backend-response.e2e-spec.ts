import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { freePort } from './support/ports.js';

/** A backend whose /status/<code> answers that code with a body and a header of its own, as httpbin does. */
function statusBackend(name: string) {
  return startBackend({
    name,
    handler: (req, res) => {
      const code = /^\/status\/(\d{3})$/.exec(req.url ?? '')?.[1];
      if (code) res.writeHead(Number(code), 'From The Backend', { 'content-type': 'text/plain', 'x-answered-by': name }).end(`${name} says ${code}`);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    },
  });
}

describe.each(ENGINES)('every try got an HTTP response: the client gets the last one (%s)', (engine) => {
  const backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
    gateway = undefined;
  });

  it("passes one backend's 503 on to every request, never a 502 of the gateway's own", async () => {
    backends.push(await statusBackend('only'));
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(...backends), '--rate-limit=0']);
    for (let i = 0; i < 3; i++) {
      const response = await rawRequest(`${gateway.url}/status/503`);
      expect({ status: response.status, reason: response.statusMessage, body: response.body.toString(), by: response.headers['x-answered-by'] }).toEqual({
        status: 503,
        reason: 'From The Backend',
        body: 'only says 503',
        by: 'only',
      });
    }
    // Each request was tried three times (two retries), and the breaker opened on the way.
    expect(backends[0].requests).toHaveLength(9);
  });

  it('passes on the answer of the last backend tried when all of them answer 502/503/504', async () => {
    backends.push(await statusBackend('one'), await statusBackend('two'));
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(...backends), '--rate-limit=0', '--retries=1']);
    const response = await rawRequest(`${gateway.url}/status/504`);
    expect(response.status).toBe(504);
    expect(response.body.toString()).toBe('two says 504');
    expect(backends.map((backend) => backend.requests.length)).toEqual([1, 1]);
  });

  it("keeps a backend's 503 when the retry after it reaches no backend at all", async () => {
    backends.push(await statusBackend('answers'));
    const dead = `http://127.0.0.1:${await freePort()}`;
    gateway = await startGateway([`--proxy-engine=${engine}`, `${backendsFlag(...backends)},${dead}`, '--rate-limit=0', '--retries=1']);
    const response = await rawRequest(`${gateway.url}/status/503`);
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe('answers says 503');
  });
});
