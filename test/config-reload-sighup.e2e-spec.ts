import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startBackend, type TestBackend } from './support/backend.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { LEVEL, type LogLine, linesOf, stopGateway } from './support/log-lines.js';

/** `/api` to one of two services, as YAML. */
function apiTo(service: string, services: Record<string, string>): string {
  return toYaml({
    services: Object.fromEntries(Object.entries(services).map(([name, url]) => [name, { backends: [url] }])),
    routes: [{ match: { pathPrefix: '/api' }, service }],
  });
}

/** Status and body of one GET, on a fresh connection. */
async function get(url: string): Promise<string> {
  const response = await rawRequest(url);
  return `${response.status} ${response.body.toString()}`;
}

/** The lines of the `Config` logger at `level` so far. */
function configLines(gateway: GatewayProcess, level: number): LogLine[] {
  return linesOf(gateway).filter((line) => line.context === 'Config' && line.level === level);
}

/** Waits (lines are written in batches) until a line of the `Config` logger at `level` matches. */
async function configLine(gateway: GatewayProcess, level: number, matching: RegExp): Promise<LogLine | undefined> {
  for (let i = 0; i < 60; i++) {
    const line = configLines(gateway, level).find((entry) => matching.test(entry.msg));
    if (line) return line;
    await sleep(50);
  }
  return undefined;
}

describe('config reload on SIGHUP (spawned gateway)', () => {
  let dir: string;
  let blue: TestBackend;
  let green: TestBackend;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-config-sighup-'));
    blue = await startBackend({ name: 'blue' });
    green = await startBackend({ name: 'green' });
  });

  afterAll(async () => {
    await blue?.close();
    await green?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies a changed file on SIGHUP within 500 ms and logs it; refuses an invalid one, logging the problem at its place, and keeps serving', async () => {
    const path = join(dir, 'gateway.yaml');
    const services = { blue: blue.url, green: green.url };
    writeFileSync(path, apiTo('blue', services));
    const gateway = spawnGateway([`--config=${path}`, '--listen=127.0.0.1:0', '--health-check-interval=0']);
    try {
      const port = await gateway.listening;
      const api = `http://127.0.0.1:${port}/api/ping`;
      expect(await get(api)).toBe('200 blue');

      // Changed, then SIGHUP at once: the new route answers within 500 ms.
      writeFileSync(path, apiTo('green', services));
      gateway.child.kill('SIGHUP');
      const signalledAt = performance.now();
      let answer = await get(api);
      while (answer !== '200 green' && performance.now() - signalledAt < 2_000) {
        await sleep(10);
        answer = await get(api);
      }
      const tookMs = performance.now() - signalledAt;
      console.log(`SIGHUP → new route answering: ${tookMs.toFixed(0)} ms`);
      expect(answer).toBe('200 green');
      expect(tookMs).toBeLessThan(500);

      // Logged at info by Config: SIGHUP or the poller, whichever read it first, with the version now in force.
      const metrics = JSON.parse((await rawRequest(`http://127.0.0.1:${port}/metrics`, { headers: { accept: 'application/json' } })).body.toString()) as {
        config: { hash: string };
      };
      const applied = await configLine(gateway, LEVEL.info, /\((SIGHUP|file changed)\): applied version/);
      expect(applied, JSON.stringify(configLines(gateway, LEVEL.info))).toBeDefined();
      expect(applied!.msg).toContain(path);
      expect(applied!.msg).toContain(`applied version ${metrics.config.hash}`);

      // An invalid version, then SIGHUP: refused at error with the problem and where it is, and the running route stays.
      writeFileSync(path, apiTo('purple', services));
      gateway.child.kill('SIGHUP');
      const refused = await configLine(gateway, LEVEL.error, /refused/);
      expect(refused, JSON.stringify(linesOf(gateway).filter((line) => line.context === 'Config'))).toBeDefined();
      expect(refused!.msg).toContain(path);
      expect(refused!.msg).toMatch(/\((SIGHUP|file changed)\) refused/);
      expect(refused!.msg).toContain(`still running version ${metrics.config.hash}`);
      expect(refused!.msg).toContain('routes[0].service: no service "purple" in services');
      expect(await get(api)).toBe('200 green');
      await sleep(500);
      expect(await get(api)).toBe('200 green');
      // Nothing else was refused or applied meanwhile.
      expect(configLines(gateway, LEVEL.info).filter((line) => line.msg.includes('applied version'))).toHaveLength(1);
    } finally {
      await stopGateway(gateway);
    }
    expect(await gateway.exited).toBe(0);
  });
});
