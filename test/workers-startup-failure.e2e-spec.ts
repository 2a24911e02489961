import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway } from './support/gateway-process.js';

describe('--workers=2 that cannot start', () => {
  let taken: net.Server;
  let port: number;

  beforeAll(async () => {
    taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => taken?.close(resolve));
  });

  it('reports an address in use once and exits 1, as one gateway does, instead of restarting workers', async () => {
    const gateway = spawnGateway(['--workers=2', `--listen=127.0.0.1:${port}`]);
    gateway.listening.catch(() => undefined);
    expect(await gateway.exited).toBe(1);
    const { stderr } = gateway.output();
    expect(stderr.trim().split('\n')).toEqual([`cannot listen on --listen 127.0.0.1:${port}: address already in use`]);
    expect(gateway.output().stdout).not.toContain('died');
  });

  it('reports a bad value once, from the primary, and exits 2 before forking', async () => {
    const gateway = spawnGateway(['--workers=2', '--read-timeout=5x']);
    gateway.listening.catch(() => undefined);
    expect(await gateway.exited).toBe(2);
    expect(gateway.output().stderr.trim().split('\n')).toEqual(['invalid --read-timeout "5x": expected a duration such as 5s or 1m30s']);
  });
});
