import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';

describe.each(ENGINES)('the Host header (RFC 9112 §3.2; raw sockets, %s)', (engine) => {
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

  /** A request head sent as is; the status the client got and how many requests reached the backend. */
  async function send(head: string): Promise<{ status: number | undefined; reached: number; raw: string }> {
    const before = backend.requests.length;
    const raw = await sendRaw(gateway.port, `${head}\r\n\r\n`);
    return { status: firstStatus(raw), reached: backend.requests.length - before, raw };
  }

  it.each([
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: gw.example\r\nHost: evil.example\r\nConnection: close'],
    ['two Host headers with one value', 'GET / HTTP/1.1\r\nHost: gw.example\r\nHost: gw.example\r\nConnection: close'],
    ['a Host with a path', 'GET / HTTP/1.1\r\nHost: evil.example/x\r\nConnection: close'],
    ['a Host with user info', 'GET / HTTP/1.1\r\nHost: user@gw.example\r\nConnection: close'],
    ['a Host with a bad port', 'GET / HTTP/1.1\r\nHost: gw.example:80x\r\nConnection: close'],
    ['an unbracketed IPv6 Host', 'GET / HTTP/1.1\r\nHost: ::1\r\nConnection: close'],
    ['an empty Host on HTTP/1.1', 'GET / HTTP/1.1\r\nHost: \r\nConnection: close'],
    ['no Host on HTTP/1.1', 'GET / HTTP/1.1\r\nConnection: close'],
  ])('answers 400 to %s and forwards nothing', async (_name, head) => {
    const { status, reached, raw } = await send(head);
    expect(status).toBe(400);
    expect(raw.toLowerCase()).toContain('connection: close');
    expect(reached).toBe(0);
  });

  it.each([
    ['a name', 'gw.example'],
    ['a name and port', 'gw.example:8080'],
    ['an IPv4 address and port', '127.0.0.1:3000'],
    ['a bracketed IPv6 address and port', '[::1]:3000'],
    ['a name with a trailing dot', 'gw.example.'],
  ])('serves a Host that is %s', async (_name, host) => {
    const { status, reached } = await send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
    expect(status).toBe(200);
    expect(reached).toBe(1);
  });

  it('serves HTTP/1.0 without a Host (it has none to send)', async () => {
    const { status, reached } = await send('GET / HTTP/1.0');
    expect(status).toBe(200);
    expect(reached).toBe(1);
  });
});
