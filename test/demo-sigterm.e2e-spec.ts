import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoProcess, refusesConnections, spawnDemo } from './support/demo-process.js';
import { rawRequest } from './support/http.js';
import { freePort } from './support/ports.js';

/** The gateway's answer once all three processes are up (the gateway may start before its backends). */
async function answerThroughGateway(port: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const response = await rawRequest(`http://127.0.0.1:${port}/`).catch(() => undefined);
    if (response?.status === 200) return response.body.toString();
    await sleep(100);
  }
  throw new Error('the demo’s gateway never answered 200');
}

describe('npm run demo', () => {
  let demo: DemoProcess | undefined;

  afterEach(() => demo?.killLeftovers());

  it('stops the gateway and both backends when npm gets SIGTERM', async () => {
    const ports = { gateway: await freePort(), backends: [await freePort(), await freePort()] as [number, number] };
    demo = spawnDemo(ports);
    const answers = [await answerThroughGateway(ports.gateway), await answerThroughGateway(ports.gateway)];
    expect(answers.sort()).toEqual(['Response from server 1\n', 'Response from server 2\n']);

    demo.npm.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
    for (const port of [ports.gateway, ...ports.backends]) expect(await refusesConnections(port), `port ${port}`).toBe(true);
  });
});
