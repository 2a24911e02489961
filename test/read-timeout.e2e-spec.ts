import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

/** Writes `data` on a raw connection and collects everything until the gateway closes it. */
function slowClient(port: number, data: string): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ response, closedAfterMs: performance.now() - started }));
    socket.setTimeout(10_000, () => socket.destroy(new Error('the gateway never closed the connection')));
  });
}

describe('a client slower than --read-timeout', () => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--read-timeout=500ms']);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it.each([
    ['headers that never end', 'GET / HTTP/1.1\r\nHost: gateway\r\n'],
    ['a body that never arrives', 'POST /upload HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\nonly ten b'],
  ])('gets 408 in Nest’s JSON shape and its connection closed, for %s', async (_case, data) => {
    const { response, closedAfterMs } = await slowClient(gateway.port, data);
    expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(response).toMatch(/\r\nConnection: close\r\n/i);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({ statusCode: 408, error: 'Request Timeout', message: 'The request was not received within --read-timeout' });
    expect(closedAfterMs).toBeGreaterThanOrEqual(450);
    expect(closedAfterMs).toBeLessThan(5_000);
  });
});
