import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { stopGateway } from './support/log-lines.js';

/** The command line the gateway's process runs now. */
const commandLineOf = (gateway: GatewayProcess) => readFileSync(`/proc/${gateway.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('the young generation of a gateway started as users start it', () => {
  let gateway: GatewayProcess | undefined;

  afterEach(async () => {
    if (gateway) await stopGateway(gateway);
    gateway = undefined;
  });

  it('is capped at 16 MiB per semi-space: the process re-executed itself with the flag, keeping its pid', async () => {
    gateway = spawnGateway(['--listen=127.0.0.1:0', '--backends=http://127.0.0.1:9']);
    await gateway.listening;
    const argv = commandLineOf(gateway);
    expect(argv.slice(1, 2)).toEqual(['--max-semi-space-size=16']);
    expect(argv.some((arg) => arg.endsWith('dist/main.js'))).toBe(true);
  });

  it('is left to the user when NODE_OPTIONS chooses a size', async () => {
    gateway = spawnGateway(['--listen=127.0.0.1:0', '--backends=http://127.0.0.1:9'], { NODE_OPTIONS: '--max-semi-space-size=8' });
    await gateway.listening;
    expect(commandLineOf(gateway).some((arg) => arg.startsWith('--max-semi-space-size'))).toBe(false);
  });
});
