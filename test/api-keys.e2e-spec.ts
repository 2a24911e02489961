import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyHashOf } from '../src/config/api-keys-file.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';

const KEYS = { alice: 'alice-key-3f9a1c', bob: 'bob-key-77d2e0', ops: 'ops-key-c01d5e', carol: 'carol-key-9b8e44' };

/** The file of the example: alice reads (with a limit of her own), bob writes, ops may do anything. */
function apiKeysYaml(extra = ''): string {
  return `consumers:
  - name: alice
    keyHash: ${keyHashOf(KEYS.alice)}
    roles: [reader]
    rateLimit: 3
  - name: bob
    keyHash: ${keyHashOf(KEYS.bob)}
    roles: [writer]
  - name: ops
    keyHash: ${keyHashOf(KEYS.ops)}
${extra}roles:
  reader:
    - { methods: [GET, HEAD], paths: [/orders, /public] }
  writer:
    - { methods: [GET, POST, PUT, DELETE], paths: [/orders] }
`;
}

describe('API keys (--api-keys)', () => {
  let dir: string;
  let keysPath: string;
  let backend: TestBackend;
  const gateways: TestGateway[] = [];
  const processes: GatewayProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-api-keys-'));
    keysPath = join(dir, 'api-keys.yaml');
    writeFileSync(keysPath, apiKeysYaml());
    backend = await startBackend();
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
    for (const child of processes.splice(0)) child.child.kill();
  });

  afterAll(async () => {
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gatewayWith(...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway([`--backends=${backend.url}`, ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  /** A request and what reached the backend because of it (undefined: nothing). */
  async function send(gateway: TestGateway, path: string, options: Parameters<typeof rawRequest>[1] = {}) {
    const before = backend.requests.length;
    const response = await rawRequest(`${gateway.url}${path}`, options);
    const forwarded = backend.requests.slice(before);
    return { response, forwarded: forwarded[0], count: forwarded.length };
  }

  describe.each(ENGINES)('%s', (engine) => {
    let gateway: TestGateway;

    beforeAll(async () => {
      gateway = await startGateway([`--backends=${backend.url}`, `--api-keys=${keysPath}`, `--proxy-engine=${engine}`]);
    });

    afterAll(async () => {
      await gateway?.close();
    });

    it('answers 401 with WWW-Authenticate to a request without a key, and to an unknown key, with the same body; nothing is forwarded', async () => {
      const missing = await send(gateway, '/orders', { localAddress: `127.0.1.${engine === 'undici' ? 1 : 2}` });
      const unknown = await send(gateway, '/orders', { headers: { authorization: 'Bearer not-a-key' }, localAddress: `127.0.1.${engine === 'undici' ? 1 : 2}` });
      for (const { response, count } of [missing, unknown]) {
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer realm="gateway"');
        expect(count).toBe(0);
      }
      expect(unknown.response.body.toString()).toBe(missing.response.body.toString());
    });

    it.each([
      ['Authorization: Bearer', { authorization: `Bearer ${KEYS.ops}` }],
      ['X-API-Key', { 'x-api-key': KEYS.ops }],
    ])('takes the key from %s, never forwards it, and names the consumer in X-Consumer (not the client)', async (_name, keyHeaders) => {
      const { response, forwarded } = await send(gateway, '/admin/x', { method: 'DELETE', headers: { ...keyHeaders, 'x-consumer': 'root' } });
      expect(response.status).toBe(200);
      expect(forwarded!.headers.authorization).toBeUndefined();
      expect(forwarded!.headers['x-api-key']).toBeUndefined();
      expect(forwarded!.headers['x-consumer']).toBe('ops');
    });

    it('answers 403 to a consumer outside its roles, and forwards what they allow', async () => {
      const denied = await send(gateway, '/orders', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${KEYS.alice}` } });
      expect(denied.response.status).toBe(403);
      expect(denied.count).toBe(0);
      const admin = await send(gateway, '/admin', { headers: { authorization: `Bearer ${KEYS.alice}` } });
      expect(admin.response.status).toBe(403);
      const written = await send(gateway, '/orders', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${KEYS.bob}` } });
      expect(written.response.status).toBe(200);
      expect(written.forwarded!.headers['x-consumer']).toBe('bob');
    });
  });

  it("limits each consumer by its own rateLimit, whatever address it comes from, and says so in the 429's headers", async () => {
    const gateway = await gatewayWith(`--api-keys=${keysPath}`, '--rate-limit=100');
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof rawRequest>> | undefined;
    for (let i = 0; i < 4; i++) {
      const response = await rawRequest(`${gateway.url}/public/${i}`, { headers: { authorization: `Bearer ${KEYS.alice}` }, localAddress: `127.0.2.${i + 1}` });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(refused!.headers['x-ratelimit-limit']).toBe('3');
    expect(refused!.headers['x-ratelimit-scope']).toBe('consumer');
    // bob has no limit of his own: --rate-limit, 100.
    expect((await rawRequest(`${gateway.url}/orders`, { headers: { authorization: `Bearer ${KEYS.bob}` } })).status).toBe(200);
  });

  it('refuses an address that failed ten times, for the rest of the minute, even with a valid key; others go on', async () => {
    const gateway = await gatewayWith(`--api-keys=${keysPath}`);
    for (let i = 0; i < 10; i++) {
      expect((await rawRequest(`${gateway.url}/orders`, { headers: { 'x-api-key': `guess-${i}` }, localAddress: '127.0.3.1' })).status).toBe(401);
    }
    const blocked = await rawRequest(`${gateway.url}/orders`, { headers: { 'x-api-key': KEYS.ops }, localAddress: '127.0.3.1' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await rawRequest(`${gateway.url}/orders`, { headers: { 'x-api-key': KEYS.ops }, localAddress: '127.0.3.2' })).status).toBe(200);
  });

  it('reloads the file when it changes, and keeps the keys in service when the new file cannot be used', async () => {
    const reloadPath = join(dir, 'reloaded.yaml');
    writeFileSync(reloadPath, apiKeysYaml());
    const gateway = await gatewayWith(`--api-keys=${reloadPath}`);
    // Each try from an address of its own: ten failures from one would be refused (429) as guessing.
    let tries = 0;
    const carol = () =>
      rawRequest(`${gateway.url}/orders`, { headers: { authorization: `Bearer ${KEYS.carol}` }, localAddress: `127.0.4.${++tries}` }).then((response) => response.status);
    expect(await carol()).toBe(401);
    writeFileSync(`${reloadPath}.new`, apiKeysYaml(`  - name: carol\n    keyHash: ${keyHashOf(KEYS.carol)}\n`));
    renameSync(`${reloadPath}.new`, reloadPath);
    await expect.poll(carol, { timeout: 5_000, interval: 100 }).toBe(200);
    writeFileSync(reloadPath, 'consumers: [ { name: broken } ]\n');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(await carol()).toBe(200);
  });

  it('stops taking a removed key at once on a connection that already used it (keep-alive)', async () => {
    const revokePath = join(dir, 'revoked.yaml');
    writeFileSync(revokePath, apiKeysYaml());
    const gateway = await gatewayWith(`--api-keys=${revokePath}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const asOps = () => rawRequest(`${gateway.url}/orders`, { headers: { authorization: `Bearer ${KEYS.ops}` }, agent }).then((response) => response.status);
      expect(await asOps()).toBe(200);
      expect(await asOps()).toBe(200);
      writeFileSync(`${revokePath}.new`, apiKeysYaml().replace(/  - name: ops\n    keyHash: \S+\n/, ''));
      renameSync(`${revokePath}.new`, revokePath);
      await expect.poll(asOps, { timeout: 5_000, interval: 200 }).toBe(401);
    } finally {
      agent.destroy();
    }
  });

  it('writes audit lines for failures and denials, and never a key, in any log line', async () => {
    const child = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`, `--api-keys=${keysPath}`, '--health-check-interval=0']);
    processes.push(child);
    const port = await child.listening;
    await rawRequest(`http://127.0.0.1:${port}/orders`, { headers: { authorization: 'Bearer wrong-key-5150' } });
    await rawRequest(`http://127.0.0.1:${port}/orders`, { method: 'DELETE', headers: { 'x-api-key': KEYS.alice } });
    await rawRequest(`http://127.0.0.1:${port}/orders`, { headers: { 'x-api-key': KEYS.alice } });
    await expect.poll(() => child.output().stdout.split('\n').filter((line) => line.includes('"audit":true')).length, { timeout: 3_000 }).toBe(2);
    const lines = child.output().stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const audit = lines.filter((line) => line.audit === true);
    expect(audit.map((line) => line.event)).toEqual(['authentication-failed', 'access-denied']);
    expect(audit[0]).toMatchObject({ client: '127.0.0.1', reason: 'unknown API key' });
    expect(audit[1]).toMatchObject({ consumer: 'alice', client: '127.0.0.1', method: 'DELETE' });
    await expect.poll(() => child.output().stdout.includes('"status":200'), { timeout: 3_000 }).toBe(true);
    for (const secret of ['wrong-key-5150', KEYS.alice]) expect(child.output().stdout + child.output().stderr).not.toContain(secret);
  });

  it('refuses to start with a file that cannot be used, naming the flag and the field (exit 2)', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'consumers:\n  - name: alice\n    keyHash: 5e884898\n');
    const child = spawnGateway(['--listen=127.0.0.1:0', `--backends=${backend.url}`, `--api-keys=${bad}`]);
    processes.push(child);
    await expect(child.listening).rejects.toThrow(/exited \(2\)/);
    expect(await child.exited).toBe(2);
    // One line: no stack trace from the provider that reads the file.
    expect(child.output().stderr.trim()).toMatch(new RegExp(`^invalid --api-keys "${bad}": consumers\\[0\\]\\.keyHash: expected sha256:[^\\n]*$`));
  });

  it('prints a key\'s hash with hash-key, from the argument or stdin', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    expect(execFileSync(process.execPath, [main, 'hash-key', 'password']).toString()).toBe('sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8\n');
    expect(execFileSync(process.execPath, [main, 'hash-key'], { input: 'password\n' }).toString()).toBe('sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8\n');
  });
});
