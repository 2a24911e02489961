import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGateway, listenGateway } from '../src/create-gateway.js';
import { ListenError } from '../src/lifecycle/listen-error.js';
import { spawnGateway } from './support/gateway-process.js';

/** A plain server holding a loopback port, so the gateway cannot bind it. */
async function occupyPort(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Runs the built gateway and waits for it to exit by itself. */
async function runGateway(args: string[], env: Record<string, string> = {}) {
  const gateway = spawnGateway(['--backends=http://127.0.0.1:9', '--health-check-interval=0', ...args], env);
  gateway.listening.catch(() => {}); // these runs are expected to exit without staying up
  const code = await gateway.exited;
  return { code, ...gateway.output() };
}

describe('a listener that cannot start', () => {
  let busy: net.Server;
  let address: string;

  beforeEach(async () => {
    busy = await occupyPort();
    address = `127.0.0.1:${(busy.address() as net.AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => busy.close(resolve));
  });

  it.each([
    { source: '--listen', args: (busyAt: string) => [`--listen=${busyAt}`], variable: undefined },
    { source: '--admin-listen', args: (busyAt: string) => ['--listen=127.0.0.1:0', `--admin-listen=${busyAt}`], variable: undefined },
    { source: 'LISTEN', args: () => [], variable: 'LISTEN' },
    { source: 'ADMIN_LISTEN', args: () => ['--listen=127.0.0.1:0'], variable: 'ADMIN_LISTEN' },
  ])('on $source: one line naming it and the address, exit code 1, no stack trace', async ({ source, args, variable }) => {
    const run = await runGateway(args(address), variable ? { [variable]: address } : {});
    expect(run.code).toBe(1);
    const all = `${run.stdout}${run.stderr}`;
    const mentions = all.split('\n').filter((line) => line.includes('address already in use'));
    expect(mentions).toEqual([`cannot listen on ${source} ${address}: address already in use`]);
    expect(run.stderr.trimEnd().split('\n')).toEqual(mentions);
    expect(all).not.toMatch(/^\s+at /m);
  });

  it('closes the application, so nothing is left listening', async () => {
    const app = await createGateway(
      { argv: ['--listen=127.0.0.1:0', `--admin-listen=${address}`, '--backends=http://127.0.0.1:9', '--health-check-interval=0'], env: {} },
      { logger: false },
    );
    const failure = await listenGateway(app).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ListenError);
    expect(app.getHttpServer().listening).toBe(false);
  });
});
