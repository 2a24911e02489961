import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { LEVEL, type LogLine, linesOf, stopGateway } from './support/log-lines.js';

/** A valid admin token, distinctive enough that any copy of it in the output is found. */
const TOKEN = 'AuditTok3n-5f0c2a9e71d84b36-never-logged';

/** The admin listener's port, from the startup line that announces it. */
async function adminPortOf(gateway: GatewayProcess): Promise<number> {
  await gateway.listening;
  for (let i = 0; i < 100; i++) {
    const match = /admin endpoints [^\n]* on http:\/\/127\.0\.0\.1:(\d+)/.exec(gateway.output().stdout);
    if (match) return Number(match[1]);
    await sleep(50);
  }
  throw new Error(`no admin listener announced:\n${gateway.output().stdout}${gateway.output().stderr}`);
}

/** One admin request with the token (or another), on a fresh connection: status and body. */
async function admin(port: number, method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; text: string }> {
  const response = await rawRequest(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, text: response.body.toString() };
}

function auditLines(gateway: GatewayProcess): LogLine[] {
  return linesOf(gateway).filter((line) => line.audit === true);
}

const q = (url: string) => `url=${encodeURIComponent(url)}`;

describe('admin API audit log (spawned gateway)', () => {
  let a: TestBackend;
  let b: TestBackend;
  let c: TestBackend;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startBackend({ name: 'a' }), startBackend({ name: 'b' }), startBackend({ name: 'c' })]);
  });

  afterAll(async () => {
    await Promise.all([a, b, c].map((backend) => backend?.close()));
  });

  it('logs add, drain, activate and remove as four audit lines at info, with service, backend and client; the token (ADMIN_TOKEN) never in the output', async () => {
    const gateway = spawnGateway([`--backends=${a.url},${b.url}`, '--listen=127.0.0.1:0', '--admin-listen=127.0.0.1:0', '--health-check-interval=0'], { ADMIN_TOKEN: TOKEN });
    try {
      const port = await adminPortOf(gateway);
      // A refused attempt with a wrong token, then the four changes.
      expect((await admin(port, 'GET', '/admin/services', undefined, 'not-the-token-0123456789')).status).toBe(401);
      expect((await admin(port, 'GET', '/admin/services')).status).toBe(200);
      const added = await admin(port, 'POST', '/admin/services/default/backends', { url: c.url, weight: 2 });
      expect(added.status, added.text).toBe(201);
      const drained = await admin(port, 'PUT', `/admin/services/default/backends/state?${q(c.url)}`, { state: 'drained' });
      expect(drained.status, drained.text).toBe(200);
      const activated = await admin(port, 'PUT', `/admin/services/default/backends/state?${q(c.url)}`, { state: 'active' });
      expect(activated.status, activated.text).toBe(200);
      const removed = await admin(port, 'DELETE', `/admin/services/default/backends?${q(b.url)}`);
      expect(removed.status, removed.text).toBe(202);

      await expect.poll(() => auditLines(gateway).filter((line) => String(line.event).startsWith('backend-')).length, { timeout: 3_000, interval: 50 }).toBe(4);
      const changes = auditLines(gateway).filter((line) => String(line.event).startsWith('backend-'));
      expect(changes.map(({ level, event, service, backend, client }) => ({ level, event, service, backend, client }))).toEqual([
        { level: LEVEL.info, event: 'backend-added', service: 'default', backend: c.url, client: '127.0.0.1' },
        { level: LEVEL.info, event: 'backend-drained', service: 'default', backend: c.url, client: '127.0.0.1' },
        { level: LEVEL.info, event: 'backend-activated', service: 'default', backend: c.url, client: '127.0.0.1' },
        { level: LEVEL.info, event: 'backend-removed', service: 'default', backend: b.url, client: '127.0.0.1' },
      ]);
      for (const line of changes) expect(line.msg).toEqual(expect.any(String));
    } finally {
      await stopGateway(gateway);
    }
    const { stdout, stderr } = gateway.output();
    expect(stdout).not.toContain(TOKEN);
    expect(stderr).not.toContain(TOKEN);
  });

  it('never writes the token given as --admin-token either, even at --log-level=debug', async () => {
    const gateway = spawnGateway([`--backends=${a.url}`, '--listen=127.0.0.1:0', '--admin-listen=127.0.0.1:0', '--health-check-interval=0', '--log-level=debug', `--admin-token=${TOKEN}`]);
    try {
      const port = await adminPortOf(gateway);
      expect((await admin(port, 'GET', '/admin/services', undefined, `${TOKEN}x`)).status).toBe(401);
      const added = await admin(port, 'POST', '/admin/services/default/backends', { url: c.url, weight: 1 });
      expect(added.status, added.text).toBe(201);
      await expect.poll(() => auditLines(gateway).filter((line) => line.event === 'backend-added').length, { timeout: 3_000, interval: 50 }).toBe(1);
    } finally {
      await stopGateway(gateway);
    }
    const { stdout, stderr } = gateway.output();
    expect(stdout).not.toContain(TOKEN);
    expect(stderr).not.toContain(TOKEN);
  });
});
