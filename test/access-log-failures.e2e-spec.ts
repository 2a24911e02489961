import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { LEVEL, linesOf, stopGateway, waitUntilServing } from './support/log-lines.js';
import { freePort } from './support/ports.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('the access log at --log-level=warn (%s)', (engine) => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBackend({
      handler: (req, res) => {
        const code = /^\/status\/(\d{3})$/.exec(req.url ?? '')?.[1];
        res.writeHead(code ? Number(code) : 200).end();
      },
    });
  });

  afterAll(async () => {
    await backend?.close();
  });

  it("shows every request that ended in a 5xx, the backend's or the gateway's own, and says who answered", async () => {
    const port = await freePort();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const gateway = spawnGateway([`--proxy-engine=${engine}`, `--listen=127.0.0.1:${port}`, `--backends=${backend.url}`, '--log-level=warn', '--retries=0']);
    gateway.listening.catch(() => {});
    await waitUntilServing(port);
    await rawRequest(`http://127.0.0.1:${port}/status/200`, { headers: { 'x-request-id': 'fine' } });
    await rawRequest(`http://127.0.0.1:${port}/status/404`, { headers: { 'x-request-id': 'not-found' } });
    await rawRequest(`http://127.0.0.1:${port}/status/500`, { headers: { 'x-request-id': 'backend-500' } });
    await rawRequest(`http://127.0.0.1:${port}/status/503`, { headers: { 'x-request-id': 'backend-503' } });
    await stopGateway(gateway);
    const deadGatewayPort = await freePort();
    const second = spawnGateway([`--proxy-engine=${engine}`, `--listen=127.0.0.1:${deadGatewayPort}`, `--backends=${dead}`, '--log-level=warn', '--retries=0']);
    second.listening.catch(() => {});
    await waitUntilServing(deadGatewayPort);
    await rawRequest(`http://127.0.0.1:${deadGatewayPort}/`, { headers: { 'x-request-id': 'gateway-502' } });
    await stopGateway(second);

    const lines = [...linesOf(gateway), ...linesOf(second)].filter((line) => typeof line.reqId === 'string');
    expect(lines.map((line) => [line.reqId, line.level, line.status, line.answeredBy])).toEqual([
      ['backend-500', LEVEL.warn, 500, 'backend'],
      ['backend-503', LEVEL.warn, 503, 'backend'],
      ['gateway-502', LEVEL.warn, 502, 'gateway'],
    ]);
    expect(lines.find((line) => line.reqId === 'gateway-502')?.cause).toBe('ECONNREFUSED');
  });
});

describe('the access log under a flood of refused requests', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    await backend?.close();
  });

  it("logs a client's 429s at most once a second, each line counting the refusals since the previous one", async () => {
    const gateway = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`, '--rate-limit=5']);
    const port = await gateway.listening;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const statuses: number[] = [];
    const startedAt = performance.now();
    // Four connections as fast as they are answered, for about 1.5 s.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() - startedAt < 1_500) statuses.push((await rawRequest(`http://127.0.0.1:${port}/flood`, { agent })).status);
      }),
    );
    agent.destroy();
    await stopGateway(gateway);
    const refusedCount = statuses.filter((status) => status === 429).length;
    const lines = linesOf(gateway).filter((line) => line.status === 429);
    console.log(`429 flood: ${statuses.length} requests, ${refusedCount} refused, ${lines.length} lines`);
    expect(refusedCount).toBeGreaterThan(100);
    // One line at once, then one a second while it lasts, then the count owed at the stop.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines.every((line) => line.client === '127.0.0.1' && line.msg === 'request refused' && line.level === LEVEL.info)).toBe(true);
    expect(lines.reduce((sum, line) => sum + (line.refused as number), 0)).toBe(refusedCount);
  });
});

describe('the access log’s client address', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('is the address the rate limiter counts, in one spelling: IPv4-mapped as IPv4, IPv6 compressed and lower-case', async () => {
    const gateway = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`, '--trust-proxy', '--rate-limit=1']);
    const port = await gateway.listening;
    const send = (forwardedFor: string, id: string) => rawRequest(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': forwardedFor, 'x-request-id': id } });
    const first = await send('::ffff:10.1.2.3', 'mapped');
    const sameClient = await send('10.1.2.3', 'plain');
    await send('2001:DB8:0:0:0:0:0:1', 'v6');
    await stopGateway(gateway);
    // The two spellings of 10.1.2.3 are one client: its second request is over a limit of 1.
    expect([first.status, sameClient.status]).toEqual([200, 429]);
    const clientOf = (id: string) => linesOf(gateway).find((line) => line.reqId === id)?.client;
    expect([clientOf('mapped'), clientOf('plain'), clientOf('v6')]).toEqual(['10.1.2.3', '10.1.2.3', '2001:db8::1']);
  });
});
