import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { linesOf, stopGateway as stop, waitUntilServing } from './support/log-lines.js';
import { freePort } from './support/ports.js';

describe('the access log', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBackend({ handler: (_req, res, body) => res.writeHead(201).end(`got ${body.length} bytes`) });
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('writes one JSON line per request, with its id, client, backend, timings, sizes and retries', async () => {
    const gateway = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`]);
    const port = await gateway.listening;
    await rawRequest(`http://127.0.0.1:${port}/orders?page=2`, { method: 'POST', headers: { 'x-request-id': 'log-me-1' }, body: 'hello' });
    await stop(gateway);
    const line = linesOf(gateway).find((entry) => entry.reqId === 'log-me-1');
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      client: '127.0.0.1',
      method: 'POST',
      url: '/orders?page=2',
      status: 201,
      backend: backend.url,
      retries: 0,
      cause: null,
    });
    expect(line!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof line!.time).toBe('number');
    expect(line!.ms as number).toBeGreaterThan(0);
    expect(line!.upstreamMs as number).toBeGreaterThan(0);
    expect(line!.upstreamMs as number).toBeLessThanOrEqual(line!.ms as number);
    expect(line!.bytesIn as number).toBeGreaterThan('hello'.length);
    expect(line!.bytesOut as number).toBeGreaterThan('got 5 bytes'.length);
  });

  it('says why a request failed', async () => {
    const gateway = spawnGateway(['--listen=127.0.0.1:0', '--backends=http://127.0.0.1:9', '--retries=0']);
    const port = await gateway.listening;
    await rawRequest(`http://127.0.0.1:${port}/nowhere`, { headers: { 'x-request-id': 'log-me-2' } });
    await stop(gateway);
    expect(linesOf(gateway).find((entry) => entry.reqId === 'log-me-2')).toMatchObject({ status: 502, cause: 'ECONNREFUSED', upstreamMs: null });
  });

  it('is silent with --access-log=false, and --log-level=warn keeps info lines out', async () => {
    for (const flag of ['--access-log=false', '--log-level=warn']) {
      // With --log-level=warn not even the "listening on" line is written: wait on the port instead.
      const port = await freePort();
      const gateway = spawnGateway([`--listen=127.0.0.1:${port}`, `--backends=${backend.url}`, flag]);
      gateway.listening.catch(() => {});
      await waitUntilServing(port);
      await rawRequest(`http://127.0.0.1:${port}/quiet`, { headers: { 'x-request-id': 'quiet-1' } });
      await stop(gateway);
      const lines = linesOf(gateway);
      expect(lines.find((entry) => entry.reqId === 'quiet-1'), flag).toBeUndefined();
      if (flag === '--log-level=warn') expect(lines.every((entry) => entry.level >= 40)).toBe(true);
    }
  });
});
