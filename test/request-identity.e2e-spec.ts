import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(ENGINES)('request ids and trace context (%s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend), '--rate-limit=6']);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('keeps a usable X-Request-Id: the backend gets it and the client gets it back', async () => {
    const response = await rawRequest(`${gateway.url}/orders`, { headers: { 'x-request-id': 'order-7f3a' } });
    expect(response.headers['x-request-id']).toBe('order-7f3a');
    expect(backend.requests.at(-1)!.headers['x-request-id']).toBe('order-7f3a');
  });

  it('replaces an oversized X-Request-Id with a generated one, the same on both sides', async () => {
    const response = await rawRequest(`${gateway.url}/orders`, { headers: { 'x-request-id': 'x'.repeat(129) } });
    const generated = response.headers['x-request-id'];
    expect(generated).toMatch(UUID);
    expect(backend.requests.at(-1)!.headers['x-request-id']).toBe(generated);
  });

  it('forwards a traceparent with its trace id intact', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await rawRequest(`${gateway.url}/traced`, { headers: { traceparent, tracestate: 'vendor=1' } });
    const received = backend.requests.at(-1)!.headers;
    expect(String(received.traceparent).split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(received.tracestate).toBe('vendor=1');
  });

  it('starts a trace for a request that has none, so the backend can join it', async () => {
    await rawRequest(`${gateway.url}/untraced`);
    expect(backend.requests.at(-1)!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('gives a rate-limited request its id too', async () => {
    const statuses: (string | undefined)[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await rawRequest(`${gateway.url}/burst`, { headers: { 'x-request-id': `burst-${i}` } });
      if (response.status === 429) statuses.push(response.headers['x-request-id'] as string);
    }
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((id) => id?.startsWith('burst-'))).toBe(true);
  });
});
