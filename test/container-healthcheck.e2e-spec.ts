import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { freePort } from './support/ports.js';

const healthcheck = fileURLToPath(new URL('../docker/healthcheck.mjs', import.meta.url));

/** Runs the container's HEALTHCHECK script against one gateway process, with `env` as its own environment. */
function runHealthcheck(pid: number, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [healthcheck, String(pid)], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('the container’s health check', () => {
  let gateway: GatewayProcess | undefined;

  afterEach(async () => {
    gateway?.child.kill('SIGTERM');
    await gateway?.exited;
  });

  it('probes the --listen flag, not the LISTEN variable it overrides', async () => {
    const [real, wrong] = [await freePort(), await freePort()];
    const env = { LISTEN: `127.0.0.1:${wrong}` };
    gateway = spawnGateway([`--listen=127.0.0.1:${real}`, '--backends=http://127.0.0.1:9', '--health-check-interval=0'], env);
    await gateway.listening;
    expect(await runHealthcheck(gateway.child.pid!, env)).toEqual({ code: 0, stderr: '' });
  });

  it('probes the --admin-listen flag, not the ADMIN_LISTEN variable it overrides', async () => {
    const [real, wrong] = [await freePort(), await freePort()];
    const env = { ADMIN_LISTEN: `127.0.0.1:${wrong}` };
    gateway = spawnGateway(['--listen=127.0.0.1:0', `--admin-listen=127.0.0.1:${real}`, '--backends=http://127.0.0.1:9', '--health-check-interval=0'], env);
    await gateway.listening;
    expect(await runHealthcheck(gateway.child.pid!, env)).toEqual({ code: 0, stderr: '' });
  });

  it('reads LISTEN from the gateway’s environment, whatever its own', async () => {
    const real = await freePort();
    gateway = spawnGateway(['--backends=http://127.0.0.1:9', '--health-check-interval=0'], { LISTEN: `127.0.0.1:${real}` });
    await gateway.listening;
    expect(await runHealthcheck(gateway.child.pid!, {})).toEqual({ code: 0, stderr: '' });
  });

  it('fails once the gateway is gone', async () => {
    const real = await freePort();
    const stopped = spawnGateway([`--listen=127.0.0.1:${real}`, '--backends=http://127.0.0.1:9', '--health-check-interval=0']);
    await stopped.listening;
    stopped.child.kill('SIGTERM');
    await stopped.exited;
    const run = await runHealthcheck(stopped.child.pid!, { LISTEN: `127.0.0.1:${real}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`process ${stopped.child.pid} is not a gateway`);
  });
});
