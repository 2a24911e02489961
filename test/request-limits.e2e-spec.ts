import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';

/** A chunked body of `size` bytes in chunks of 1 KiB, as raw bytes. */
function chunkedBody(size: number): string {
  let body = '';
  for (let sent = 0; sent < size; sent += 1024) {
    const length = Math.min(1024, size - sent);
    body += `${length.toString(16)}\r\n${'x'.repeat(length)}\r\n`;
  }
  return `${body}0\r\n\r\n`;
}

describe.each(ENGINES)('request limits: --max-body-size, --max-header-size, --allowed-methods, --allowed-content-types (%s)', (engine) => {
  let backend: TestBackend;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    backend = await startBackend({ handler: (req, res, body) => res.end(`${req.method} ${body.length}`) });
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  afterAll(async () => {
    await backend?.close();
  });

  async function gatewayWith(...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`, ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  /** Raw bytes to the gateway; the status, the raw answer, the paths whose heads reached the backend and those whose whole body did. */
  async function send(gateway: TestGateway, bytes: string) {
    const arrivalsBefore = backend.arrivals.length;
    const completeBefore = backend.requests.length;
    const raw = await sendRaw(gateway.port, bytes);
    await sleep(100); // anything forwarded by mistake shows by then
    return {
      status: firstStatus(raw),
      raw: raw.toLowerCase(),
      arrived: backend.arrivals.slice(arrivalsBefore),
      completed: backend.requests.slice(completeBefore).map((request) => `${request.url} ${request.body.length}`),
    };
  }

  describe('--max-body-size', () => {
    it('answers 413 to a declared Content-Length over the default 10MiB before reading the body, and forwards nothing', async () => {
      const gateway = await gatewayWith();
      // Only the head is sent: the answer must not wait for a body it will never read.
      const { status, raw, arrived } = await send(gateway, 'POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 33554432\r\n\r\n');
      expect(status).toBe(413);
      expect(raw).toContain('connection: close');
      expect(raw).toContain('"statuscode":413');
      expect(arrived).toEqual([]);
    });

    it('answers 413 instead of 100 Continue to a request that expects it with a Content-Length over the limit', async () => {
      const gateway = await gatewayWith('--max-body-size=4KiB');
      const { status, arrived } = await send(gateway, 'POST /upload HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 8192\r\n\r\n');
      expect(status).toBe(413);
      expect(arrived).toEqual([]);
    });

    it('sends 100 Continue to a request within the limit, then forwards its body', async () => {
      const gateway = await gatewayWith('--max-body-size=4KiB');
      const { raw, completed } = await send(gateway, 'POST /upload HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
      expect(raw.startsWith('http/1.1 100 continue\r\n\r\nhttp/1.1 200 ok')).toBe(true);
      expect(completed).toEqual(['/upload 5']);
    });

    it.each([['2', 'the body kept for retries'], ['0', 'a streamed body']])(
      'answers 413 to a chunked body once it passes the limit (--retries=%s: %s), and the backend never gets it whole',
      async (retries) => {
        const gateway = await gatewayWith('--max-body-size=4KiB', `--retries=${retries}`);
        const { status, raw, completed } = await send(gateway, `POST /upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody(8 * 1024)}`);
        expect(status).toBe(413);
        expect(raw).toContain('connection: close');
        expect(completed).toEqual([]);
      },
    );

    it('forwards bodies within the limit whole, declared and chunked', async () => {
      const gateway = await gatewayWith('--max-body-size=4KiB');
      const declared = await rawRequest(`${gateway.url}/upload`, { method: 'POST', body: 'y'.repeat(4096) });
      expect([declared.status, declared.body.toString()]).toEqual([200, 'POST 4096']);
      const chunked = await rawRequest(`${gateway.url}/upload`, { method: 'POST', body: 'y'.repeat(4096), chunks: 4 });
      expect([chunked.status, chunked.body.toString()]).toEqual([200, 'POST 4096']);
    });

    it('takes 0 for no limit', async () => {
      const gateway = await gatewayWith('--max-body-size=0');
      const big = await rawRequest(`${gateway.url}/upload`, { method: 'POST', body: Buffer.alloc(11 * 1024 * 1024), chunks: 11 });
      expect([big.status, big.body.toString()]).toEqual([200, `POST ${11 * 1024 * 1024}`]);
    });
  });

  describe('--max-header-size', () => {
    it('answers 431 to a head over the limit and serves one within it', async () => {
      const gateway = await gatewayWith('--max-header-size=2KiB');
      const over = await send(gateway, `GET / HTTP/1.1\r\nHost: gw\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`);
      expect(over.status).toBe(431);
      expect(over.arrived).toEqual([]);
      const within = await rawRequest(`${gateway.url}/`, { headers: { 'x-big': 'b'.repeat(1500) } });
      expect(within.status).toBe(200);
    });

    it('serves a 12 KiB head by default (16KiB)', async () => {
      const gateway = await gatewayWith();
      const response = await rawRequest(`${gateway.url}/`, { headers: { 'x-big': 'b'.repeat(12 * 1024) } });
      expect(response.status).toBe(200);
    });
  });

  describe('--allowed-methods', () => {
    it('answers 405 with Allow to a method outside the default list, and forwards nothing', async () => {
      const gateway = await gatewayWith();
      const { status, raw, arrived } = await send(gateway, 'PROPFIND /dav HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
      expect(status).toBe(405);
      expect(raw).toContain('\r\nallow: get, head, post, put, patch, delete, options\r\n');
      expect(arrived).toEqual([]);
    });

    it('proxies exactly the methods listed', async () => {
      const gateway = await gatewayWith('--allowed-methods=GET,PROPFIND');
      expect((await rawRequest(`${gateway.url}/dav`, { method: 'PROPFIND' })).status).toBe(200);
      const post = await rawRequest(`${gateway.url}/dav`, { method: 'POST', body: 'x' });
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, PROPFIND');
    });

    it('proxies any method with *, but never TRACE', async () => {
      const gateway = await gatewayWith('--allowed-methods=*');
      expect((await rawRequest(`${gateway.url}/dav`, { method: 'PROPFIND' })).status).toBe(200);
      expect((await rawRequest(`${gateway.url}/x`, { method: 'PURGE' })).status).toBe(200);
      const trace = await rawRequest(`${gateway.url}/x`, { method: 'TRACE' });
      expect(trace.status).toBe(405);
      expect(trace.headers.allow).toContain('PROPFIND');
      expect(trace.headers.allow).not.toContain('TRACE');
    });

    it('answers CONNECT with 405 instead of dropping the connection', async () => {
      const gateway = await gatewayWith('--allowed-methods=*');
      const { status, raw, arrived } = await send(gateway, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      expect(status).toBe(405);
      expect(raw).toContain('\r\nallow: ');
      expect(arrived).toEqual([]);
    });
  });

  describe('--allowed-content-types', () => {
    it('forwards bodies of the listed types (parameters and case aside) and answers 415 to others, and to a body with no type', async () => {
      const gateway = await gatewayWith('--allowed-content-types=application/json,text/*');
      const post = (type: string | undefined) => rawRequest(`${gateway.url}/in`, { method: 'POST', body: '{}', headers: type ? { 'content-type': type } : {} });
      expect((await post('application/json; charset=utf-8')).status).toBe(200);
      expect((await post('Text/Plain')).status).toBe(200);
      const xml = await post('application/xml');
      expect(xml.status).toBe(415);
      expect(JSON.parse(xml.body.toString())).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
      expect((await post(undefined)).status).toBe(415);
      // A request without a body has no type to check.
      expect((await rawRequest(`${gateway.url}/in`)).status).toBe(200);
    });
  });
});
