import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SHARED_STORE, type SharedStore } from '../src/cluster/shared-store.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { type RawResponse, rawRequest } from './support/http.js';
import { startRedis, type TestRedis } from './support/redis.js';

/** The same admin token on every instance (at least 16 characters). */
const TOKEN = 'shared-config-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** What the design promises: a change reaches every member on the announcement, or within a second by polling the version. */
const PROPAGATION_LIMIT_MS = 1_000;
/** How long a scenario waits for a change at most, so a slow one is measured rather than only failed. */
const WAIT_LIMIT_MS = 3_000;
/** Nothing may hang while Redis is away: every answer comes well within this. */
const ANSWER_LIMIT_MS = 1_000;

interface AdminBackend {
  readonly url: string;
  readonly weight: number;
  readonly state: 'active' | 'drained';
}
interface AdminService {
  readonly name: string;
  readonly backends: readonly AdminBackend[];
}

/** GET /admin/services on the instance's admin listener (fresh connection): the backends of `default`, url → state. */
async function defaultBackends(gateway: TestGateway): Promise<Map<string, AdminBackend['state']>> {
  const response = await rawRequest(`${gateway.adminUrl!}/admin/services`, { headers: AUTH });
  expect(response.status).toBe(200);
  const { services } = JSON.parse(response.body.toString()) as { services: AdminService[] };
  const service = services.find(({ name }) => name === 'default');
  return new Map((service?.backends ?? []).map(({ url, state }) => [url, state]));
}

/** POST /admin/services/default/backends */
function addBackend(gateway: TestGateway, backend: TestBackend, weight = 1): Promise<RawResponse> {
  return rawRequest(`${gateway.adminUrl!}/admin/services/default/backends`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ url: backend.url, weight }),
  });
}

/** PUT /admin/services/default/backends/state?url= */
function setState(gateway: TestGateway, backend: TestBackend, state: 'active' | 'drained'): Promise<RawResponse> {
  return rawRequest(`${gateway.adminUrl!}/admin/services/default/backends/state?url=${encodeURIComponent(backend.url)}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ state }),
  });
}

/** `config.hash` of the instance's JSON /metrics (on its admin listener). */
async function configHash(gateway: TestGateway): Promise<string> {
  const response = await rawRequest(`${gateway.adminUrl!}/metrics`);
  expect(response.status).toBe(200);
  return (JSON.parse(response.body.toString()) as { config: { hash: string } }).config.hash;
}

/** Whether a request through the instance reaches `name` within a few tries (round robin over a handful of backends). */
async function reaches(gateway: TestGateway, name: string, tries = 6): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const response = await rawRequest(`${gateway.url}/probe`);
    if (response.status === 200 && response.body.toString() === name) return true;
  }
  return false;
}

/** Polls `check` (every 5 ms) from `since` until it holds or WAIT_LIMIT_MS: whether it held, and when (ms after `since`). */
async function measureUntil(since: number, check: () => Promise<boolean>): Promise<{ reached: boolean; ms: number }> {
  while (performance.now() - since < WAIT_LIMIT_MS) {
    if (await check()) return { reached: true, ms: performance.now() - since };
    await sleep(5);
  }
  return { reached: false, ms: performance.now() - since };
}

/** Runs `action` and fails the test if it takes ANSWER_LIMIT_MS or more: nothing may hang. */
async function promptly<T>(what: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} hung: no answer within ${ANSWER_LIMIT_MS} ms`)), ANSWER_LIMIT_MS)));
  try {
    return await Promise.race([action(), deadline]);
  } finally {
    clearTimeout(timer);
    expect(performance.now() - started, what).toBeLessThan(ANSWER_LIMIT_MS);
  }
}

describe('one running configuration across instances through Redis (--redis-url, admin API)', () => {
  let redis: TestRedis;
  let a: TestBackend;
  let b: TestBackend;
  let c: TestBackend;
  let d: TestBackend;
  let dir: string;
  let gateways: TestGateway[] = [];
  let testNumber = 0;
  let prefix = '';

  beforeAll(async () => {
    redis = await startRedis();
    [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((name) => startBackend({ name })));
    dir = mkdtempSync(join(tmpdir(), 'gateway-shared-config-'));
  });

  beforeEach(() => {
    prefix = `config-${process.pid}-${++testNumber}:`;
  });

  afterEach(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    gateways = [];
  });

  afterAll(async () => {
    await Promise.all([a, b, c, d].map((backend) => backend?.close()));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** a, b, c or d, for readable failures. */
  function nameOf(url: string): string {
    return ['a', 'b', 'c', 'd'][[a, b, c, d].findIndex((backend) => backend.url === url)] ?? url;
  }

  /** The flags every instance of a test shares: this Redis (or `on`), this test's prefix, an admin listener of its own. */
  function flags(on: TestRedis = redis): string[] {
    return [
      `--redis-url=${on.url}`,
      `--redis-prefix=${prefix}`,
      '--proxy-engine=undici',
      '--rate-limit=0',
      '--admin-listen=127.0.0.1:0',
      `--admin-token=${TOKEN}`,
    ];
  }

  async function start(argv: string[]): Promise<TestGateway> {
    const gateway = await startGateway(argv);
    gateways.push(gateway);
    return gateway;
  }

  /** A and B, started one after the other (B finds A's version stored) over `backends`. */
  async function pair(backends: TestBackend[], on: TestRedis = redis): Promise<[TestGateway, TestGateway]> {
    const argv = [`--backends=${backends.map(({ url }) => url).join(',')}`, ...flags(on)];
    const first = await start(argv);
    const second = await start(argv);
    return [first, second];
  }

  it('leaves gateways that share Redis for limits alone (no --config, no admin API) each on its own --backends', async () => {
    const limitsOnly = [`--redis-url=${redis.url}`, `--redis-prefix=${prefix}`, '--proxy-engine=undici', '--rate-limit=0'];
    const onA = await start([`--backends=${a.url}`, ...limitsOnly]);
    const onB = await start([`--backends=${b.url}`, ...limitsOnly]);
    // Past a catch-up period: time for either to have taken the other's, were it shared.
    await sleep(1_200);
    const bodies = async (gateway: TestGateway) => Promise.all(Array.from({ length: 4 }, async () => (await rawRequest(`${gateway.url}/probe`)).body.toString()));
    expect(await bodies(onA)).toEqual(['a', 'a', 'a', 'a']);
    expect(await bodies(onB)).toEqual(['b', 'b', 'b', 'b']);
  });

  it('applies a backend added on A on B within 1 s: B lists it and sends requests to it', async () => {
    const [gatewayA, gatewayB] = await pair([a]);
    expect([...(await defaultBackends(gatewayB)).keys()]).toEqual([a.url]);

    const added = await addBackend(gatewayA, c);
    const answeredAt = performance.now();
    expect(added.status).toBe(201);
    const { reached, ms } = await measureUntil(answeredAt, async () => (await defaultBackends(gatewayB)).has(c.url) && (await reaches(gatewayB, 'c')));
    console.log(`admin add on A → B lists c and a request through B reaches c: ${ms.toFixed(0)} ms`);
    expect(reached).toBe(true);
    expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);
    expect(await defaultBackends(gatewayB)).toEqual(new Map([[a.url, 'active'], [c.url, 'active']]));
    expect(await configHash(gatewayB)).toBe(await configHash(gatewayA));
  });

  it('applies a drain made on B on A within 1 s: A lists the backend drained and sends it nothing', async () => {
    const [gatewayA, gatewayB] = await pair([a, b]);
    expect(await reaches(gatewayA, 'a')).toBe(true);

    const drained = await setState(gatewayB, a, 'drained');
    const answeredAt = performance.now();
    expect(drained.status).toBe(200);
    const { reached, ms } = await measureUntil(answeredAt, async () => (await defaultBackends(gatewayA)).get(a.url) === 'drained');
    console.log(`drain on B → A lists a drained: ${ms.toFixed(0)} ms`);
    expect(reached).toBe(true);
    expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);
    const before = a.requests.length;
    for (let i = 0; i < 10; i++) {
      const response = await rawRequest(`${gatewayA.url}/after-drain`);
      expect([response.status, response.body.toString()]).toEqual([200, 'b']);
    }
    expect(a.requests.length).toBe(before);
    expect(await configHash(gatewayA)).toBe(await configHash(gatewayB));
  });

  it('gives an instance started later the stored configuration: with --config-source=file and the same flags, and with --config-source=redis', async () => {
    const [gatewayA] = await pair([a]);
    expect((await addBackend(gatewayA, c)).status).toBe(201);
    const hash = await configHash(gatewayA);

    // The same --backends (the same flags document, the same hash): the stored version, admin change included, wins.
    const sameFile = await start([`--backends=${a.url}`, ...flags(), '--config-source=file']);
    expect(await defaultBackends(sameFile)).toEqual(new Map([[a.url, 'active'], [c.url, 'active']]));
    expect(await configHash(sameFile)).toBe(hash);
    expect(await reaches(sameFile, 'c')).toBe(true);

    const fromRedis = await start([`--backends=${a.url}`, ...flags(), '--config-source=redis']);
    expect(await defaultBackends(fromRedis)).toEqual(new Map([[a.url, 'active'], [c.url, 'active']]));
    expect(await configHash(fromRedis)).toBe(hash);

    // With redis as the source, even other flags give way to the stored version.
    const otherFlags = await start([`--backends=${d.url}`, ...flags(), '--config-source=redis']);
    expect(await defaultBackends(otherFlags)).toEqual(new Map([[a.url, 'active'], [c.url, 'active']]));
    expect(await configHash(otherFlags)).toBe(hash);

    // Joining does not change what the others run.
    expect(await configHash(gatewayA)).toBe(hash);
  });

  it('lets an instance started with a different --config file store its version; A and B follow it within 1 s', async () => {
    const [gatewayA, gatewayB] = await pair([a]);
    const hashBefore = await configHash(gatewayA);
    const path = join(dir, `d-${testNumber}.json`);
    writeFileSync(path, JSON.stringify({ services: { default: { backends: [a.url, d.url] } }, routes: [{ service: 'default' }] }));

    const gatewayD = await start([`--config=${path}`, ...flags()]);
    const startedAt = performance.now();
    const hashD = await configHash(gatewayD);
    expect(hashD).not.toBe(hashBefore);
    expect(await defaultBackends(gatewayD)).toEqual(new Map([[a.url, 'active'], [d.url, 'active']]));
    const { reached, ms } = await measureUntil(startedAt, async () => (await configHash(gatewayA)) === hashD && (await configHash(gatewayB)) === hashD);
    console.log(`instance D with its own file started → A and B run D's version: ${ms.toFixed(0)} ms`);
    expect(reached).toBe(true);
    expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);
    for (const gateway of [gatewayA, gatewayB]) {
      expect(await defaultBackends(gateway)).toEqual(new Map([[a.url, 'active'], [d.url, 'active']]));
      expect(await reaches(gateway, 'd')).toBe(true);
    }
  });

  it('converges on one version when A and B are changed at the same moment', async () => {
    const [gatewayA, gatewayB] = await pair([a]);
    const [onA, onB] = await Promise.all([addBackend(gatewayA, c), addBackend(gatewayB, d)]);
    const answeredAt = performance.now();
    expect([onA.status, onB.status]).toEqual([201, 201]);
    // Whichever change the cluster keeps (or both, one after the other), A and B must end up running the same one.
    const { reached, ms } = await measureUntil(answeredAt, async () => (await configHash(gatewayA)) === (await configHash(gatewayB)));
    console.log(`simultaneous changes on A and B → one version on both: ${reached ? `${ms.toFixed(0)} ms` : `not within ${WAIT_LIMIT_MS} ms`}`);
    const views = await Promise.all([gatewayA, gatewayB].map(async (gateway) => [...(await defaultBackends(gateway)).keys()].map(nameOf).sort()));
    expect(views[1], `A runs ${views[0].join(', ')}; B runs ${views[1].join(', ')}`).toEqual(views[0]);
    expect(reached).toBe(true);
    expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);
  });

  it('stores a change made while Redis did not answer once it answers again (its data kept), so the others take it with no new change', async () => {
    const frozen = await startRedis();
    try {
      const [gatewayA, gatewayB] = await pair([a], frozen);
      frozen.freeze();
      expect((await promptly('admin POST on A', () => addBackend(gatewayA, c))).status).toBe(201);
      expect((await defaultBackends(gatewayA)).has(c.url)).toBe(true);
      await sleep(300);
      frozen.thaw();
      const thawedAt = performance.now();
      const { reached, ms } = await measureUntil(thawedAt, async () => (await defaultBackends(gatewayB)).has(c.url));
      console.log(`after a freeze: A's change made meanwhile on B: ${ms.toFixed(0)} ms after the thaw`);
      expect(reached).toBe(true);
      expect(await configHash(gatewayB)).toBe(await configHash(gatewayA));
    } finally {
      frozen.thaw();
      await frozen.stop();
    }
  });

  it('keeps serving and applying admin changes locally while Redis is down, without hanging; after Redis is back a change on A reaches B again', async () => {
    // A Redis of this test's own: the outage must not touch the others'.
    const outage = await startRedis();
    try {
      const [gatewayA, gatewayB] = await pair([a], outage);
      await outage.kill();

      for (let i = 0; i < 10; i++) {
        const response = await promptly(`request ${i} through A`, () => rawRequest(`${gatewayA.url}/during-outage`));
        expect(response.status).toBe(200);
      }
      const added = await promptly('admin POST on A', () => addBackend(gatewayA, c));
      expect(added.status).toBe(201);
      expect(await promptly('admin GET on A', () => defaultBackends(gatewayA))).toEqual(new Map([[a.url, 'active'], [c.url, 'active']]));
      expect(await promptly('requests through A to c', () => reaches(gatewayA, 'c'))).toBe(true);
      expect((await promptly('request through B', () => rawRequest(`${gatewayB.url}/during-outage`))).status).toBe(200);
      expect((await promptly('/metrics on B', () => rawRequest(`${gatewayB.adminUrl!}/metrics`))).status).toBe(200);
      // Past a catch-up period, B still runs its own version: the change could not travel (the outage is real).
      await sleep(1_200);
      expect(await defaultBackends(gatewayB)).toEqual(new Map([[a.url, 'active']]));

      // A new redis-server on the same port (empty: nothing is kept on disk).
      await outage.start();
      const stores = [gatewayA, gatewayB].map((gateway) => gateway.app.get<SharedStore>(SHARED_STORE));
      const back = await measureUntil(performance.now(), async () => stores.every((store) => store.available));
      expect(back.reached).toBe(true);
      // A's change made during the outage is newer than anything stored: once Redis answers, A stores it and B takes it, with no new change.
      const caughtUp = await measureUntil(performance.now(), async () => (await defaultBackends(gatewayB)).has(c.url));
      expect(caughtUp.reached).toBe(true);
      // The subscriber connections reconnect on the same schedule as the command connections.
      await sleep(1_000);

      const drained = await setState(gatewayA, a, 'drained');
      const answeredAt = performance.now();
      expect(drained.status).toBe(200);
      const { reached, ms } = await measureUntil(answeredAt, async () => (await defaultBackends(gatewayB)).get(a.url) === 'drained');
      console.log(`after the outage: drain on A → B lists it: ${ms.toFixed(0)} ms`);
      expect(reached).toBe(true);
      expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);
      // A's whole version travels: the backend added during the outage comes with it.
      expect(await defaultBackends(gatewayB)).toEqual(new Map([[a.url, 'drained'], [c.url, 'active']]));
      expect(await configHash(gatewayB)).toBe(await configHash(gatewayA));
    } finally {
      await Promise.all(gateways.map((gateway) => gateway.close()));
      gateways = [];
      await outage.stop();
    }
  });
  it('still follows an instance with a different --config file after Redis came back empty (a restart without persistence)', async () => {
    const wiped = await startRedis();
    try {
      const [gatewayA, gatewayB] = await pair([a], wiped);
      // One admin change: A and B now run the cluster's second version.
      expect((await addBackend(gatewayA, c)).status).toBe(201);
      expect((await measureUntil(performance.now(), async () => (await defaultBackends(gatewayB)).has(c.url))).reached).toBe(true);

      await wiped.kill();
      await wiped.start();
      const stores = [gatewayA, gatewayB].map((gateway) => gateway.app.get<SharedStore>(SHARED_STORE));
      expect((await measureUntil(performance.now(), async () => stores.every((store) => store.available))).reached).toBe(true);
      await sleep(1_000);

      const path = join(dir, `d-wiped-${testNumber}.json`);
      writeFileSync(path, JSON.stringify({ services: { default: { backends: [a.url, d.url] } }, routes: [{ service: 'default' }] }));
      const gatewayD = await start([`--config=${path}`, ...flags(wiped)]);
      const startedAt = performance.now();
      const hashD = await configHash(gatewayD);
      const { reached, ms } = await measureUntil(startedAt, async () => (await configHash(gatewayA)) === hashD && (await configHash(gatewayB)) === hashD);
      console.log(`after Redis came back empty: D started → A and B run D's version: ${reached ? `${ms.toFixed(0)} ms` : `not within ${WAIT_LIMIT_MS} ms`}`);
      const views = await Promise.all([gatewayA, gatewayB, gatewayD].map(async (gateway) => [...(await defaultBackends(gateway)).keys()].map(nameOf).sort().join(',')));
      expect(views, 'backends of A, B, D').toEqual(['a,d', 'a,d', 'a,d']);
      expect(reached).toBe(true);
      expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);
    } finally {
      await Promise.all(gateways.map((gateway) => gateway.close()));
      gateways = [];
      await wiped.stop();
    }
  });
});
