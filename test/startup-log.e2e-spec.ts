import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
}

/** Nest's own start-up chatter: which modules loaded, which routes were mapped. */
const BOOTSTRAP_CONTEXTS = ['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication'];

function linesOf(gateway: GatewayProcess): LogLine[] {
  return gateway
    .output()
    .stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Everything the gateway logs from its start until it has announced `last` (lines are written in batches). */
async function startUpLines(gateway: GatewayProcess, last: RegExp): Promise<LogLine[]> {
  await gateway.listening;
  for (let i = 0; i < 50 && !linesOf(gateway).some((line) => last.test(line.msg)); i++) await sleep(100);
  return linesOf(gateway);
}

async function stop(gateway: GatewayProcess): Promise<void> {
  gateway.child.kill('SIGTERM');
  await gateway.exited;
}

describe('start-up lines', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('at info, says only where it listens, what it proxies to, with which engine, and the admin address', async () => {
    const gateway = spawnGateway([
      '--listen=127.0.0.1:0',
      '--admin-listen=127.0.0.1:0',
      `--backends=${backend.url},http://127.0.0.1:9`,
      '--proxy-engine=undici',
      '--health-check-interval=0',
    ]);
    try {
      const lines = await startUpLines(gateway, /^admin endpoints/);
      const port = await gateway.listening;
      expect(lines.map((line) => line.msg)).toEqual([
        `listening on http://127.0.0.1:${port}, proxying to ${backend.url}, http://127.0.0.1:9 (proxy engine: undici)`,
        expect.stringMatching(/^admin endpoints \(\/health, \/health\/ready, \/metrics, \/status\) on http:\/\/127\.0\.0\.1:\d+$/),
      ]);
      expect(lines.every((line) => line.level === 30 && line.context === 'Gateway')).toBe(true);
    } finally {
      await stop(gateway);
    }
  });

  it('with --config, names the services it proxies to, their backends and strategies, and the file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'startup-log-'));
    const file = join(directory, 'gateway.yaml');
    writeFileSync(
      file,
      `services:\n  users: { backends: [${backend.url}, http://127.0.0.1:9], balance: least-request }\n  orders: { backends: [http://127.0.0.1:10] }\nroutes: [{ service: users }]\n`,
    );
    const gateway = spawnGateway(['--listen=127.0.0.1:0', `--config=${file}`, '--proxy-engine=undici', '--health-check-interval=0']);
    try {
      const lines = await startUpLines(gateway, /^listening on/);
      const port = await gateway.listening;
      expect(lines.map((line) => line.msg)).toContain(
        `listening on http://127.0.0.1:${port}, proxying to services users (2 backends, least-request) and orders (1 backend, round-robin) from ${file} (proxy engine: undici)`,
      );
    } finally {
      await stop(gateway);
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('at debug, also shows Nest’s bootstrap lines', async () => {
    const gateway = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`, '--health-check-interval=0', '--log-level=debug']);
    try {
      const lines = await startUpLines(gateway, /^listening on/);
      for (const context of BOOTSTRAP_CONTEXTS) {
        const fromContext = lines.filter((line) => line.context === context);
        expect(fromContext.length, context).toBeGreaterThan(0);
        expect(fromContext.every((line) => line.level === 20)).toBe(true);
      }
    } finally {
      await stop(gateway);
    }
  });
});
