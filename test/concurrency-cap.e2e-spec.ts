import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

describe.each(ENGINES)('--max-inflight-per-backend (%s)', (engine) => {
  const held: ServerResponse[] = [];
  const backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    for (const res of held.splice(0)) res.end();
    await gateway?.close();
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
  });

  it('sends requests over one backend’s cap to the next, and answers 503 at once when all are full', async () => {
    // Both backends hold every request until the test lets go.
    for (const name of ['one', 'two']) backends.push(await startBackend({ name, handler: (_req, res) => held.push(res) }));
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(...backends), '--rate-limit=0', '--max-inflight-per-backend=2']);

    const accepted = Array.from({ length: 4 }, (_, i) => rawRequest(`${gateway!.url}/slow/${i}`));
    while (held.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(backends.map((backend) => backend.requests.length)).toEqual([2, 2]);

    const started = performance.now();
    const overflow = await rawRequest(`${gateway.url}/one-too-many`);
    expect(overflow.status).toBe(503);
    expect(JSON.parse(overflow.body.toString())).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'No backend available' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(backends.map((backend) => backend.requests.length)).toEqual([2, 2]);

    for (const res of held.splice(0)) res.end('done');
    expect((await Promise.all(accepted)).map((response) => response.status)).toEqual([200, 200, 200, 200]);
    // The slots are free again.
    const after = rawRequest(`${gateway.url}/after`);
    while (held.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    held.splice(0).forEach((res) => res.end('done'));
    expect((await after).status).toBe(200);
  });
});
