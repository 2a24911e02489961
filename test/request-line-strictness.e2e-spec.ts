import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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
    // A long read timeout, so an answer that only comes when it runs out cannot pass for one at once.
    gateway = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`, '--read-timeout=20s']);
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

  it.each([
    ['GET /\r\n'],
    ['GET /index.html\n'],
  ])('answers an HTTP/0.9 request line (%j) with 505 at once and forwards nothing', async (line) => {
    const { status, reached } = await send(line);
    expect(status).toBe(505);
    expect(reached).toBe(0);
  });

  it('serves a request line that arrives in pieces', async () => {
    const { status, reached } = await sendInPieces(['GET /pie', 'ces HTTP/1', '.1\r\nHost: gw\r\nConnection: close\r\n\r\n']);
    expect(status).toBe(200);
    expect(reached).toBe(1);
  });

  it('answers an HTTP/0.9 request line that arrives in pieces with 505', async () => {
    const { status, reached } = await sendInPieces(['GET /sl', 'ow', '\r\n']);
    expect(status).toBe(505);
    expect(reached).toBe(0);
  });

  it('serves a request after blank lines (RFC 9112 §2.2)', async () => {
    const { status, reached } = await sendInPieces(['\r\n', '\r\nGET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n']);
    expect(status).toBe(200);
    expect(reached).toBe(1);
  });

  async function sendInPieces(pieces: string[]): Promise<{ status: number | undefined; reached: number }> {
    const before = backend.requests.length;
    const socket = net.connect(gateway.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = once(socket, 'end');
    await once(socket, 'connect');
    for (const piece of pieces) {
      socket.write(piece);
      await sleep(30);
    }
    await Promise.race([ended, sleep(2_000)]);
    socket.destroy();
    return { status: firstStatus(Buffer.concat(chunks).toString('latin1')), reached: backend.requests.length - before };
  }
});
