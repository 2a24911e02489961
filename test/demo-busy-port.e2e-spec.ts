import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoProcess, refusesConnections, spawnDemo } from './support/demo-process.js';
import { freePort } from './support/ports.js';

describe('npm run demo with a port already taken', () => {
  let demo: DemoProcess | undefined;
  let busy: net.Server | undefined;

  afterEach(async () => {
    demo?.killLeftovers();
    await new Promise((resolve) => (busy ? busy.close(resolve) : resolve(undefined)));
  });

  it('says so in one line, stops the others and exits non-zero', async () => {
    const ports = { gateway: await freePort(), backends: [await freePort(), await freePort()] as [number, number] };
    busy = net.createServer();
    await new Promise<void>((resolve) => busy!.listen(ports.backends[0], resolve));

    demo = spawnDemo(ports);
    const code = await demo.exited;

    expect(code).not.toBe(0);
    const output = demo.output();
    expect(output.split('\n').filter((line) => line.includes('address already in use'))).toEqual([
      `backend "Response from server 1": cannot listen on --port ${ports.backends[0]}: address already in use`,
    ]);
    expect(output).not.toMatch(/^\s+at /m);
    for (const port of [ports.gateway, ports.backends[1]]) expect(await refusesConnections(port), `port ${port}`).toBe(true);
  });
});
