import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';

/** Statuses of every response in raw bytes, in order. */
function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}

/**
 * RFC 9112 §9.6: once the gateway has decided to close a connection, nothing more read on it is
 * forwarded; and the answer to a request already forwarded is delivered in full before the close.
 */
describe.each(ENGINES)('pipelined requests around a close (raw sockets, %s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({
      // A slow answer keeps the first response in progress while the requests behind it are read.
      handler: (req, res, body) => {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`${req.method} ${req.url} ${body.length}`);
        }, 20);
      },
    });
    gateway = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  /** Sends the bytes in one write; what the client got, and the paths that reached the backend. */
  async function send(bytes: string): Promise<{ raw: string; reached: string[] }> {
    const before = backend.arrivals.length;
    const raw = await sendRaw(gateway.port, bytes);
    // A request forwarded by mistake would reach the backend about when the first did; give it time to show.
    await sleep(100);
    // Heads as they arrived: a request forwarded and then aborted reached the backend all the same.
    return { raw, reached: backend.arrivals.slice(before) };
  }

  const after = 'GET /after HTTP/1.1\r\nHost: gw.example\r\n\r\n';

  it.each([
    ['a 400 for two Host headers', 'GET /first HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400, []],
    ['a 400 for a path above the root', 'GET /../secret HTTP/1.1\r\nHost: gw.example\r\n\r\n', 400, []],
    ['the client\'s Connection: close', 'GET /first HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n\r\n', 200, ['/first']],
    ['an HTTP/1.0 request without keep-alive', 'GET /first HTTP/1.0\r\n\r\n', 200, ['/first']],
  ])('forwards nothing read after %s (10 tries)', async (_name, first, status, forwarded) => {
    for (let attempt = 0; attempt < 10; attempt++) {
      // A pooled backend connection left idle is when a stray request reaches the backend soonest.
      await sendRaw(gateway.port, 'GET /warm HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n\r\n');
      const { raw, reached } = await send(first + after);
      expect(statuses(raw)).toEqual([status]);
      expect(reached).toEqual(forwarded);
    }
  });

  it('still serves pipelined requests on a connection kept alive', async () => {
    const { raw, reached } = await send('GET /first HTTP/1.1\r\nHost: gw.example\r\n\r\n' + after.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    expect(statuses(raw)).toEqual([200, 200]);
    expect(reached).toEqual(['/first', '/after']);
  });

  it('delivers the answer to a forwarded POST in full before the 400 for a malformed line behind it', async () => {
    const post = 'POST /orders HTTP/1.1\r\nHost: gw.example\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
    const { raw, reached } = await send(`${post}NOT A REQUEST LINE\r\n\r\n`);
    expect(reached).toEqual(['/orders']);
    expect(firstStatus(raw)).toBe(200);
    expect(raw).toContain('POST /orders 5');
    // The malformed line gets its 400 after that answer, never instead of it.
    expect(statuses(raw)).toEqual([200, 400]);
  });

  it('answers 400 to HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1: faulty framing) and forwards nothing', async () => {
    const chunked = 'POST /orders HTTP/1.0\r\nHost: gw.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    const { raw, reached } = await send(`${chunked}GET /after HTTP/1.0\r\n\r\n`);
    expect(statuses(raw)).toEqual([400]);
    expect(raw.toLowerCase()).toContain('connection: close');
    expect(reached).toEqual([]);
  });
});
