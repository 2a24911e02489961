import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { keyHashOf } from '../src/config/api-keys-file.js';
import { GracefulShutdownService } from '../src/lifecycle/graceful-shutdown.service.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';
import { closeWebSocket, echo, openWebSocket, startWebSocketBackend, type WebSocketBackend } from './support/websocket-backend.js';

describe.each(ENGINES)('WebSockets through the gateway (%s)', (engine) => {
  let a: WebSocketBackend;
  let b: WebSocketBackend;
  let dir: string;
  const gateways: TestGateway[] = [];
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    a = await startWebSocketBackend({ name: 'a' });
    b = await startWebSocketBackend({ name: 'b' });
    dir = mkdtempSync(join(tmpdir(), 'gateway-ws-'));
  });

  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gatewayWith(...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway([`--proxy-engine=${engine}`, ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  async function open(gateway: TestGateway, path = '/chat', headers: Record<string, string> = {}, localAddress?: string): Promise<WebSocket> {
    const ws = await openWebSocket(`ws://127.0.0.1:${gateway.port}${path}`, headers, localAddress);
    sockets.push(ws);
    return ws;
  }

  it('passes text and binary frames both ways untouched, with the forwarding headers, and counts the open tunnel', async () => {
    const gateway = await gatewayWith(`--backends=${a.url}`);
    const before = a.upgrades.length;
    const ws = await open(gateway, '/chat?room=1');
    expect(await echo(ws, 'hello')).toBe('a:hello');
    const binary = Buffer.from([0, 1, 2, 250, 251, 255]);
    expect(await echo(ws, binary)).toEqual(binary);
    const upgrade = a.upgrades[before];
    expect(upgrade['x-forwarded-for']).toBe('127.0.0.1');
    expect(upgrade['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(upgrade.upgrade).toBe('websocket');
    expect(gateway.metrics.websocketConnections).toBe(1);
    const prometheus = (await rawRequest(`${gateway.url}/metrics`, { headers: { accept: 'text/plain' } })).body.toString();
    expect(prometheus).toMatch(/^gateway_websocket_connections 1$/m);
    await closeWebSocket(ws);
    await expect.poll(() => gateway.metrics.websocketConnections).toBe(0);
  });

  it('balances upgrades over the backends', async () => {
    const gateway = await gatewayWith(`--backends=${a.url},${b.url}`);
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const ws = await open(gateway);
      answers.add(String(await echo(ws, 'x')));
      await closeWebSocket(ws);
    }
    expect([...answers].sort()).toEqual(['a:x', 'b:x']);
  });

  it('rate-limits upgrades like any request', async () => {
    const gateway = await gatewayWith(`--backends=${a.url}`, '--rate-limit=2');
    await open(gateway, '/chat', {}, '127.0.5.1');
    await open(gateway, '/chat', {}, '127.0.5.1');
    await expect(open(gateway, '/chat', {}, '127.0.5.1')).rejects.toMatchObject({ status: 429 });
  });

  it('asks for an API key, never forwards it, and names the consumer', async () => {
    const keys = join(dir, `keys-${engine}.yaml`);
    writeFileSync(keys, `consumers:\n  - name: chatter\n    keyHash: ${keyHashOf('ws-key-1')}\n`);
    const gateway = await gatewayWith(`--backends=${a.url}`, `--api-keys=${keys}`);
    await expect(open(gateway)).rejects.toMatchObject({ status: 401 });
    const before = a.upgrades.length;
    const ws = await open(gateway, '/chat', { 'x-api-key': 'ws-key-1', 'x-consumer': 'root' });
    expect(await echo(ws, 'hi')).toBe('a:hi');
    expect(a.upgrades[before]['x-api-key']).toBeUndefined();
    expect(a.upgrades[before]['x-consumer']).toBe('chatter');
  });

  it("passes on a backend's refusal of the upgrade", async () => {
    const refusing = await startWebSocketBackend({ refuseWith: 403 });
    try {
      const gateway = await gatewayWith(`--backends=${refusing.url}`);
      await expect(open(gateway)).rejects.toMatchObject({ status: 403, body: 'refused' });
      expect(gateway.metrics.websocketConnections).toBe(0);
    } finally {
      await refusing.close();
    }
  });

  it('answers 502 when no backend takes the upgrade', async () => {
    const gateway = await gatewayWith('--backends=http://127.0.0.1:1', '--retries=0');
    await expect(open(gateway)).rejects.toMatchObject({ status: 502 });
  });

  it('serves any other Upgrade (h2c) as plain HTTP, without the Upgrade', async () => {
    const gateway = await gatewayWith(`--backends=${a.url}`);
    const before = a.plainRequests.length;
    const raw = await sendRaw(gateway.port, 'GET /plain HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n', 300);
    expect(firstStatus(raw)).toBe(200);
    expect(raw).toContain('plain');
    const seen = a.plainRequests[before];
    expect(seen.upgrade).toBeUndefined();
    expect(seen['http2-settings']).toBeUndefined();
  });

  it('keeps tunnels open through a drain until --shutdown-timeout, then closes them', async () => {
    const gateway = await gatewayWith(`--backends=${a.url}`, '--shutdown-timeout=1s');
    const ws = await open(gateway);
    const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(performance.now())));
    const startedAt = performance.now();
    const drained = gateway.app.get(GracefulShutdownService).drain('SIGTERM');
    await sleep(400);
    // Still open and working well into the drain.
    expect(await echo(ws, 'still here')).toBe('a:still here');
    const closedAt = await closed;
    await drained;
    expect(closedAt - startedAt).toBeGreaterThanOrEqual(900);
    await expect.poll(() => gateway.metrics.websocketConnections).toBe(0);
  });
});

describe('WebSocket tunnels in the access log', () => {
  it('logs one line per tunnel when it closes, with status 101, the backend and how long it was open', async () => {
    const backend = await startWebSocketBackend();
    const child = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`, '--health-check-interval=0']);
    try {
      const port = await child.listening;
      const ws = await openWebSocket(`ws://127.0.0.1:${port}/logged`);
      await echo(ws, 'x');
      await sleep(200);
      await closeWebSocket(ws);
      await expect.poll(() => child.output().stdout.includes('websocket closed'), { timeout: 3_000 }).toBe(true);
      const line = JSON.parse(child.output().stdout.split('\n').find((text) => text.includes('websocket closed'))!) as Record<string, unknown>;
      expect(line).toMatchObject({ status: 101, url: '/logged', method: 'GET', backend: backend.url, answeredBy: 'backend' });
      expect(line.ms).toBeGreaterThanOrEqual(200);
    } finally {
      child.child.kill();
      await backend.close();
    }
  });
});
