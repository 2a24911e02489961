import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('SIGTERM with a request in flight (%s)', (engine) => {
  let backend: TestBackend;
  let hanging: TestBackend;

  beforeAll(async () => {
    // Answers after a second, long enough for the signal to arrive mid-request.
    backend = await startBackend({
      handler: (_req, res) => {
        setTimeout(() => res.end('slow but complete'), 1_000);
      },
    });
    hanging = await startBackend({ handler: () => {} });
  });

  afterAll(async () => {
    await backend?.close();
    await hanging?.close();
  });

  it('lets the request complete, closes its connection, refuses new ones and exits 0', async () => {
    const gateway = spawnGateway([`--proxy-engine=${engine}`, '--listen=127.0.0.1:0', `--backends=${backend.url}`]);
    const port = await gateway.listening;

    // A keep-alive client: only the drain can make the gateway close its connection.
    const keepAlive = new http.Agent({ keepAlive: true });
    const inFlight = rawRequest(`http://127.0.0.1:${port}/slow`, { agent: keepAlive });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(backend.requests).toHaveLength(1);
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The listener is already closed: new connections are refused.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('slow but complete');
    expect(response.headers.connection).toBe('close');
    expect(await gateway.exited).toBe(0);
    keepAlive.destroy();
  });

  it('cuts what is still in flight after --shutdown-timeout and exits 0', async () => {
    const gateway = spawnGateway([`--proxy-engine=${engine}`, '--listen=127.0.0.1:0', `--backends=${hanging.url}`, '--shutdown-timeout=500ms', '--write-timeout=1m']);
    const port = await gateway.listening;
    const inFlight = rawRequest(`http://127.0.0.1:${port}/forever`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = performance.now();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    const took = performance.now() - signalled;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(5_000);
    expect(await inFlight).toBe('cut');
  });
});
