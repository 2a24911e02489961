import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { freePort } from './support/ports.js';

describe('switching request ids, trace context and breakers off', () => {
  let backend: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await backend?.close();
    gateway = backend = undefined;
  });

  it('with --request-ids=false and --trace-context=false, passes both headers untouched and makes none', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--request-ids=false', '--trace-context=false']);
    const bare = await rawRequest(`${gateway.url}/bare`);
    const sent = await rawRequest(`${gateway.url}/sent`, { headers: { 'x-request-id': 'not a usable id', traceparent: 'garbage' } });
    const [seenBare, seenSent] = backend.requests;
    expect([seenBare.headers['x-request-id'], seenBare.headers.traceparent]).toEqual([undefined, undefined]);
    expect([seenSent.headers['x-request-id'], seenSent.headers.traceparent]).toEqual(['not a usable id', 'garbage']);
    expect([bare.headers['x-request-id'], sent.headers['x-request-id']]).toEqual([undefined, undefined]);
  });

  it('by default, gives each request an id and a trace', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend)]);
    const response = await rawRequest(`${gateway.url}/`);
    expect(backend.requests[0].headers['x-request-id']).toBe(response.headers['x-request-id']);
    expect(backend.requests[0].headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('with --breaker-failures=0, never opens a breaker', async () => {
    backend = await startBackend();
    const dead = `http://127.0.0.1:${await freePort()}`;
    gateway = await startGateway([`${backendsFlag(backend)},${dead}`, '--breaker-failures=0', '--rate-limit=0']);
    for (let i = 0; i < 20; i++) expect((await rawRequest(`${gateway.url}/${i}`)).status).toBe(200);
    const [live, refusing] = gateway.metrics.snapshot().backends;
    // Far past the default threshold of 5 failures in a row, still tried: no breaker to open.
    expect([live.state, live.errors, refusing.state]).toEqual(['closed', 0, 'closed']);
    expect(refusing.errors).toBeGreaterThanOrEqual(10);
  });
});
