import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';
import { stopGateway } from './support/log-lines.js';
import { parseExposition, sampleValue } from './support/prometheus-text.js';

/** The three backends' names: each answers every request with its own name as the body. */
const NAMES = ['alpha', 'bravo', 'charlie'] as const;

/** Users `user-0` … `user-199`, the X-User-Id values hashed. */
const USERS = Array.from({ length: 200 }, (_, n) => `user-${n}`);
const SPREAD_USERS = Array.from({ length: 1_000 }, (_, n) => `user-${n}`);

/** Requests in flight at once while a mapping is measured. */
const CONCURRENCY = 8;

/** Which backend answered each key, and every request that did not get a 200. */
interface Mapping {
  readonly servedBy: Record<string, string>;
  readonly failures: readonly string[];
}

/**
 * One request per key through the gateway at `url`, CONCURRENCY at a time over keep-alive
 * connections (closed at the end, so a gateway can stop without waiting for them).
 */
async function mappingOf(url: string, keys: readonly string[], headersFor: (key: string) => OutgoingHttpHeaders): Promise<Mapping> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const answers = new Map<string, string>();
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      try {
        const response = await rawRequest(`${url}/whoami`, { headers: headersFor(key), agent });
        if (response.status === 200) answers.set(key, response.body.toString());
        else failures.push(`${key}: ${response.status} ${response.body.toString()}`);
      } catch (error) {
        failures.push(`${key}: ${(error as Error).message}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    agent.destroy();
  }
  // In the keys' order, whatever order the answers came in.
  const servedBy = Object.fromEntries(keys.filter((key) => answers.has(key)).map((key) => [key, answers.get(key)!]));
  return { servedBy, failures };
}

const byUserId = (user: string): OutgoingHttpHeaders => ({ 'x-user-id': user });

/** How many keys each backend name got. */
function countsOf(servedBy: Record<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of Object.values(servedBy)) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** The keys whose backend differs between two mappings. */
function movedBetween(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((key) => after[key] !== before[key]);
}

/** One service `app` over these backends, consistent-hash on X-User-Id, behind a catch-all route. */
function configText(backends: readonly TestBackend[], retries = 2): string {
  return toYaml({
    services: {
      app: {
        backends: backends.map((backend) => backend.url),
        balance: 'consistent-hash',
        hashOn: 'header:X-User-Id',
        retries,
        // A backend that comes back is tried again after 200 ms, not the default 10 s.
        breaker: { cooldown: '200ms' },
      },
    },
    routes: [{ service: 'app' }],
  });
}

/** gateway_config_reloads_total{result="success"} and the hash of gateway_config_info, from the Prometheus text. */
async function configMetrics(url: string): Promise<{ success: number; hash: string | undefined }> {
  const response = await rawRequest(`${url}/metrics?format=prometheus`);
  expect(response.status).toBe(200);
  const exposition = parseExposition(response.body.toString());
  return {
    success: sampleValue(exposition, 'gateway_config_reloads_total', { result: 'success' }) ?? 0,
    hash: exposition.samples.find((sample) => sample.name === 'gateway_config_info' && sample.value === 1)?.labels.hash,
  };
}

/** Writes a new version of the file and waits (3 s at most) until the gateway has applied it. */
async function reload(gateway: TestGateway, path: string, text: string): Promise<void> {
  const before = await configMetrics(gateway.url);
  writeFileSync(path, text);
  await expect.poll(async () => (await configMetrics(gateway.url)).success, { timeout: 3_000, interval: 50 }).toBe(before.success + 1);
  expect((await configMetrics(gateway.url)).hash).not.toBe(before.hash);
}

describe('consistent-hash from a config file (hashOn: header:X-User-Id)', () => {
  let dir: string;
  let path: string;
  let backends: TestBackend[] = [];
  const gateways: TestGateway[] = [];
  const processes: GatewayProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-consistent-hash-'));
  });

  beforeEach(async () => {
    // Fresh backends for each test: one of them is killed and restarted below.
    backends = await Promise.all(NAMES.map((name) => startBackend({ name })));
    path = join(dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, configText(backends));
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
    await Promise.all(processes.splice(0).map((child) => stopGateway(child)));
    await Promise.all(backends.map((backend) => backend.close()));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function gatewayOnFile(): Promise<TestGateway> {
    // No rate limit: 200 users from one address are far above the default 100 a second of a client.
    const gateway = await startGateway([`--config=${path}`, '--rate-limit=0']);
    gateways.push(gateway);
    return gateway;
  }

  /** dist/main.js on the same file, as its own process. */
  async function spawnedOnFile(): Promise<string> {
    const child = spawnGateway(['--listen=127.0.0.1:0', `--config=${path}`, '--rate-limit=0', '--health-check-interval=0', '--access-log=false']);
    processes.push(child);
    return `http://127.0.0.1:${await child.listening}`;
  }

  /** The mapping of every user, with no failure allowed. */
  async function usersMapping(url: string): Promise<Record<string, string>> {
    const { servedBy, failures } = await mappingOf(url, USERS, byUserId);
    expect(failures).toEqual([]);
    return servedBy;
  }

  it('keeps each of 200 users on one backend over 3 rounds, and spreads 1,000 users within 10 points of even', async () => {
    const gateway = await gatewayOnFile();
    const rounds: Record<string, string>[] = [];
    for (let round = 0; round < 3; round++) rounds.push(await usersMapping(gateway.url));

    const unsteady = USERS.filter((user) => new Set(rounds.map((servedBy) => servedBy[user])).size !== 1);
    expect(unsteady).toEqual([]);
    // The ring's points sit at hashes of URLs with random ports: with 200 users, sampling alone would put
    // a share past 10 points in about 1 run of 60; with 1,000, about 1 in 3,000.
    const { servedBy, failures } = await mappingOf(gateway.url, SPREAD_USERS, byUserId);
    expect(failures).toEqual([]);
    const counts = countsOf(servedBy);
    const shares = NAMES.map((name) => (counts[name] ?? 0) / SPREAD_USERS.length);
    expect(Object.keys(counts).sort()).toEqual([...NAMES]);
    for (const share of shares) {
      expect(share).toBeGreaterThanOrEqual(0.23);
      expect(share).toBeLessThanOrEqual(0.43);
    }
  });

  it('keeps every user on its backend across a reload that changes something else (retries)', async () => {
    const gateway = await gatewayOnFile();
    const before = await usersMapping(gateway.url);

    await reload(gateway, path, configText(backends, 3));
    const after = await usersMapping(gateway.url);
    expect(movedBetween(before, after)).toEqual([]);
  });

  it('moves only the users of a backend a reload removes, and brings every user back when it is added again', async () => {
    const gateway = await gatewayOnFile();
    const first = await usersMapping(gateway.url);
    const [alpha, bravo, charlie] = backends;
    const bravoUsers = USERS.filter((user) => first[user] === 'bravo');
    expect(bravoUsers.length).toBeGreaterThan(0);

    await reload(gateway, path, configText([alpha, charlie]));
    const without = await usersMapping(gateway.url);
    const moved = movedBetween(first, without);
    // Exactly bravo's users moved (to a backend still there: every request was answered); the others' arcs are untouched.
    expect(moved).toEqual(bravoUsers);
    // Bravo heard nothing after the reload: only the first round's requests of its own users.
    expect(bravo.requests.length).toBe(bravoUsers.length);

    await reload(gateway, path, configText([alpha, bravo, charlie]));
    expect(movedBetween(first, await usersMapping(gateway.url))).toEqual([]);
  });

  it('maps every user to the same backend on an in-process gateway and a spawned one with the same file, and again after the spawned one restarts', async () => {
    const inProcess = await gatewayOnFile();
    const spawnedUrl = await spawnedOnFile();
    const expected = await usersMapping(inProcess.url);
    expect(await usersMapping(spawnedUrl)).toEqual(expected);

    // A restart: the ring comes from the backends' URLs alone, so the new process builds the same one.
    await stopGateway(processes.pop()!);
    const restartedUrl = await spawnedOnFile();
    expect(await usersMapping(restartedUrl)).toEqual(expected);
  });

  it("sends a dead backend's users elsewhere with no failed request, keeps every other user, and brings them back once it returns", async () => {
    const gateway = await gatewayOnFile();
    const first = await usersMapping(gateway.url);
    const bravoIndex = NAMES.indexOf('bravo');
    const bravoUsers = USERS.filter((user) => first[user] === 'bravo');
    expect(bravoUsers.length).toBeGreaterThan(0);

    const { port } = backends[bravoIndex];
    await backends[bravoIndex].close();
    // Two rounds: the first meets connection refused (retried on the next backend), the second an open breaker.
    for (let round = 0; round < 2; round++) {
      const dead = await usersMapping(gateway.url);
      expect(movedBetween(first, dead)).toEqual(bravoUsers);
    }

    backends[bravoIndex] = await startBackend({ name: 'bravo', port });
    // Its breaker lets a trial through 200 ms after it opened; poll bravo's users until they are all back.
    const deadline = performance.now() + 5_000;
    let back: Mapping = await mappingOf(gateway.url, bravoUsers, byUserId);
    const failures = [...back.failures];
    while (Object.values(back.servedBy).some((name) => name !== 'bravo') && performance.now() < deadline) {
      await sleep(100);
      back = await mappingOf(gateway.url, bravoUsers, byUserId);
      failures.push(...back.failures);
    }
    expect(failures).toEqual([]);
    expect(countsOf(back.servedBy)).toEqual({ bravo: bravoUsers.length });
    expect(movedBetween(first, await usersMapping(gateway.url))).toEqual([]);
  });

  it('spreads 30 sequential requests without X-User-Id round robin: 10 on each backend', async () => {
    const gateway = await gatewayOnFile();
    const counts: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const response = await rawRequest(`${gateway.url}/whoami`);
      expect(response.status).toBe(200);
      const name = response.body.toString();
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(counts).toEqual({ alpha: 10, bravo: 10, charlie: 10 });
  });
});

describe('consistent-hash from flags alone (--balance=consistent-hash --hash-on=cookie:session)', () => {
  let backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await Promise.all(backends.map((backend) => backend.close()));
  });

  it('sends each of 60 sessions to one backend over 3 rounds, and uses every backend', async () => {
    backends = await Promise.all(NAMES.map((name) => startBackend({ name })));
    gateway = await startGateway([backendsFlag(...backends), '--balance=consistent-hash', '--hash-on=cookie:session', '--rate-limit=0']);
    const sessions = Array.from({ length: 60 }, (_, n) => String(n));
    const rounds: Record<string, string>[] = [];
    for (let round = 0; round < 3; round++) {
      const { servedBy, failures } = await mappingOf(gateway.url, sessions, (session) => ({ cookie: `theme=dark; session=${session}` }));
      expect(failures).toEqual([]);
      rounds.push(servedBy);
    }
    const unsteady = sessions.filter((session) => new Set(rounds.map((servedBy) => servedBy[session])).size !== 1);
    expect(unsteady).toEqual([]);
    // Not one backend for everything: the cookie's value is what is hashed.
    expect(Object.keys(countsOf(rounds[0])).sort()).toEqual([...NAMES]);
  });
});
