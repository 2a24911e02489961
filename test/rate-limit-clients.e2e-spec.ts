import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

/** Status codes of `count` requests from one client. */
async function statuses(gateway: TestGateway, count: number, options: { localAddress?: string; forwardedFor?: string }) {
  const result: number[] = [];
  for (let i = 0; i < count; i++) {
    const headers = options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {};
    result.push((await rawRequest(`${gateway.url}/`, { localAddress: options.localAddress, headers })).status);
  }
  return result;
}

describe('who counts as one client', () => {
  let backend: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('limits each client address separately by default', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=2']);
    expect(await statuses(gateway, 3, { localAddress: '127.0.0.1' })).toEqual([200, 200, 429]);
    expect(await statuses(gateway, 3, { localAddress: '127.0.0.2' })).toEqual([200, 200, 429]);
  });

  it('limits all clients together with --rate-limit-scope=global, as the Go proxy did', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=2', '--rate-limit-scope=global']);
    expect(await statuses(gateway, 2, { localAddress: '127.0.0.1' })).toEqual([200, 200]);
    expect(await statuses(gateway, 1, { localAddress: '127.0.0.2' })).toEqual([429]);
  });

  it('ignores X-Forwarded-For unless --trust-proxy is set', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=2']);
    expect(await statuses(gateway, 2, { forwardedFor: '203.0.113.1' })).toEqual([200, 200]);
    expect(await statuses(gateway, 1, { forwardedFor: '203.0.113.2' })).toEqual([429]);
  });

  it('with --trust-proxy (one hop), takes the client from the entry the proxy in front appended, not from what the client wrote', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=2', '--trust-proxy']);
    // The load balancer appended 198.51.100.7; whatever the client wrote left of it is its own claim.
    expect(await statuses(gateway, 3, { forwardedFor: '203.0.113.1, 198.51.100.7' })).toEqual([200, 200, 429]);
    expect(await statuses(gateway, 1, { forwardedFor: '203.0.113.2, 198.51.100.7' })).toEqual([429]);
    expect(await statuses(gateway, 2, { forwardedFor: '203.0.113.1, 198.51.100.8' })).toEqual([200, 200]);
  });

  it('with --trust-proxy=2, counts two proxies in front', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=2', '--trust-proxy=2']);
    expect(await statuses(gateway, 3, { forwardedFor: '203.0.113.1, 198.51.100.7, 10.0.0.1' })).toEqual([200, 200, 429]);
    expect(await statuses(gateway, 1, { forwardedFor: '203.0.113.9, 198.51.100.7, 10.0.0.2' })).toEqual([429]);
  });

  it('with --trust-proxy=<CIDRs>, believes only trusted peers, and takes the right-most address that is not one', async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=2', '--trust-proxy=127.0.0.1,10.0.0.0/8']);
    // From the trusted 127.0.0.1, through a trusted 10.1.1.1: the client is 203.0.113.5, whatever is left of it.
    expect(await statuses(gateway, 3, { localAddress: '127.0.0.1', forwardedFor: '192.0.2.66, 203.0.113.5, 10.1.1.1' })).toEqual([200, 200, 429]);
    expect(await statuses(gateway, 1, { localAddress: '127.0.0.1', forwardedFor: '192.0.2.67, 203.0.113.5, 10.9.9.9' })).toEqual([429]);
    // From 127.0.0.2, not trusted: its X-Forwarded-For is not believed, the socket is the client.
    expect(await statuses(gateway, 2, { localAddress: '127.0.0.2', forwardedFor: '203.0.113.5' })).toEqual([200, 200]);
    expect(await statuses(gateway, 1, { localAddress: '127.0.0.2', forwardedFor: '203.0.113.77' })).toEqual([429]);
  });
});
