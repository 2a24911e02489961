import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { closeWebSocket, echo, openWebSocket, startWebSocketBackend, type WebSocketBackend } from './support/websocket-backend.js';

const CYCLES = 1_000;

/** The server's open connections, as Node counts them. */
function connectionsOf(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** Listener counts of the events a tunnel or a dispatcher could leave listeners on. */
function listenersOf(server: Server): Record<string, number> {
  return Object.fromEntries(['request', 'upgrade', 'connection', 'clientError', 'close'].map((event) => [event, server.listenerCount(event)]));
}

describe.each(ENGINES)('WebSocket tunnels leave nothing behind (%s)', (engine) => {
  let backend: WebSocketBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startWebSocketBackend();
    gateway = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`, '--rate-limit=0']);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it(`is where it started after ${CYCLES} open, echo, close cycles`, async () => {
    const server = gateway.app.getHttpServer() as Server;
    const connectionsBefore = await connectionsOf(server);
    const listenersBefore = listenersOf(server);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const ws = await openWebSocket(`ws://127.0.0.1:${gateway.port}/cycle`);
      expect(await echo(ws, `m${cycle}`)).toBe(`m${cycle}`);
      await closeWebSocket(ws);
    }
    await expect.poll(() => gateway.metrics.websocketConnections, { timeout: 5_000 }).toBe(0);
    await expect.poll(() => connectionsOf(server), { timeout: 5_000 }).toBe(connectionsBefore);
    await expect.poll(() => backend.openClients(), { timeout: 5_000 }).toBe(0);
    expect(listenersOf(server)).toEqual(listenersBefore);
    expect(backend.upgrades.length).toBe(CYCLES);
  });
});
