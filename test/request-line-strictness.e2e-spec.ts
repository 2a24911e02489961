import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';

describe.each(ENGINES)('methods and HTTP versions the gateway refuses, as NGINX does (raw sockets, %s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  async function send(bytes: string): Promise<{ status: number | undefined; reached: number; raw: string }> {
    const before = backend.requests.length;
    const raw = await sendRaw(gateway.port, bytes);
    return { status: firstStatus(raw), reached: backend.requests.length - before, raw };
  }

  it('answers TRACE with 405 and the methods it proxies, and forwards nothing', async () => {
    const { status, reached, raw } = await send('TRACE / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    expect(status).toBe(405);
    expect(raw.toLowerCase()).toMatch(/\r\nallow: get, head, post, put, patch, delete, options\r\n/);
    expect(reached).toBe(0);
  });

  it.each(['HTTP/2.0', 'HTTP/3.0'])('answers a %s request line with 505 and forwards nothing', async (version) => {
    const { status, reached } = await send(`GET / ${version}\r\nHost: gw\r\nConnection: close\r\n\r\n`);
    expect(status).toBe(505);
    expect(reached).toBe(0);
  });
});
