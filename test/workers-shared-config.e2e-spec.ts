import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { type RawResponse, rawRequest } from './support/http.js';
import { freePort } from './support/ports.js';
import { killAll, startWorkers, type WorkersGateway } from './support/workers.js';

const TOKEN = 'workers-config-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** What the design promises: a change reaches every worker on the primary's broadcast, or within a second by polling the version. */
const PROPAGATION_LIMIT_MS = 1_000;
/** How long a scenario waits for a change at most, so a slow one is measured rather than only failed. */
const WAIT_LIMIT_MS = 3_000;
/** Answers in a row (each on a fresh connection, dealt to the workers in turn) that must show a change: several from each worker. */
const ANSWERS_IN_A_ROW = 6;

interface AdminBackend {
  readonly url: string;
  readonly state: 'active' | 'drained';
}

describe('two workers, one running configuration through the primary (--workers=2, no Redis, admin API)', () => {
  let a: TestBackend;
  let c: TestBackend;
  let adminUrl = '';
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    a = await startBackend({ name: 'a' });
    c = await startBackend({ name: 'c' });
    const adminPort = await freePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    workers = await startWorkers(['--workers=2', `--backends=${a.url}`, '--rate-limit=0', '--access-log=false', `--admin-listen=127.0.0.1:${adminPort}`], { ADMIN_TOKEN: TOKEN });
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await a?.close();
    await c?.close();
  });

  /** GET /admin/services on a fresh connection (so the primary deals it to the next worker): `default`'s backends, url → state. */
  async function defaultBackends(): Promise<Map<string, AdminBackend['state']>> {
    const response = await rawRequest(`${adminUrl}/admin/services`, { headers: AUTH });
    expect(response.status).toBe(200);
    const { services } = JSON.parse(response.body.toString()) as { services: { name: string; backends: AdminBackend[] }[] };
    return new Map((services.find(({ name }) => name === 'default')?.backends ?? []).map(({ url, state }) => [url, state]));
  }

  /** Each worker's own count of proxied requests, by pid, from the whole-process JSON /metrics. */
  async function requestsByWorker(): Promise<Map<number, number>> {
    const response = await rawRequest(`${adminUrl}/metrics`);
    expect(response.status).toBe(200);
    const { workers: whole } = JSON.parse(response.body.toString()) as { workers: { processes: { pid: number; requests: number }[] } };
    return new Map(whole.processes.map(({ pid, requests }) => [pid, requests]));
  }

  /** From `since`, until ANSWERS_IN_A_ROW fresh answers in a row satisfy `shows` (or WAIT_LIMIT_MS): whether they did, and when. */
  async function measureUntilEveryWorkerShows(since: number, shows: (backends: Map<string, AdminBackend['state']>) => boolean): Promise<{ reached: boolean; ms: number }> {
    let inARow = 0;
    while (performance.now() - since < WAIT_LIMIT_MS) {
      inARow = shows(await defaultBackends()) ? inARow + 1 : 0;
      if (inARow === ANSWERS_IN_A_ROW) return { reached: true, ms: performance.now() - since };
    }
    return { reached: false, ms: performance.now() - since };
  }

  /** 40 requests through the proxy listener, each on a fresh connection: their bodies, and which workers served them. */
  async function fortyRequests(path: string): Promise<{ bodies: string[]; servedBy: number[] }> {
    const before = await requestsByWorker();
    const responses: RawResponse[] = [];
    for (let i = 0; i < 40; i++) responses.push(await rawRequest(`${workers!.url}${path}`));
    const after = await requestsByWorker();
    expect(responses.map(({ status }) => status)).toEqual(Array(40).fill(200));
    return {
      bodies: responses.map(({ body }) => body.toString()),
      servedBy: [...after].filter(([pid, requests]) => requests > (before.get(pid) ?? 0)).map(([pid]) => pid),
    };
  }

  it('deals fresh connections to both workers, on the admin listener and on the proxy listener', async () => {
    const answeredBy = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const response = await rawRequest(`${adminUrl}/metrics`);
      answeredBy.add((JSON.parse(response.body.toString()) as { workers: { answeredBy: number } }).workers.answeredBy);
    }
    expect(answeredBy.size).toBe(2);
    const { bodies, servedBy } = await fortyRequests('/warm-up');
    expect(new Set(bodies)).toEqual(new Set(['a']));
    expect(servedBy).toHaveLength(2);
  });

  it('applies a backend added through one worker on both within 1 s: every worker lists it and sends to it', async () => {
    // Weight 100 against a's 1: a worker that knows c sends it every one of its ~20 requests; one that does not sends them all to a.
    const added = await rawRequest(`${adminUrl}/admin/services/default/backends`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ url: c.url, weight: 100 }),
    });
    const answeredAt = performance.now();
    expect(added.status).toBe(201);
    const { reached, ms } = await measureUntilEveryWorkerShows(answeredAt, (backends) => backends.get(c.url) === 'active');
    console.log(`admin add on one worker → ${ANSWERS_IN_A_ROW} fresh answers in a row list c: ${ms.toFixed(0)} ms`);
    expect(reached).toBe(true);
    expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);

    // From a second after the change, every request sees it, whichever worker serves it.
    await sleep(Math.max(0, answeredAt + PROPAGATION_LIMIT_MS - performance.now()));
    const seenByA = a.requests.length;
    const { bodies, servedBy } = await fortyRequests('/after-add');
    expect(servedBy).toHaveLength(2);
    expect(bodies.filter((body) => body !== 'c')).toEqual([]);
    expect(a.requests.length).toBe(seenByA);
    for (let i = 0; i < ANSWERS_IN_A_ROW; i++) expect((await defaultBackends()).get(c.url)).toBe('active');
  });

  it('applies a drain made through one worker on both within 1 s: none of 40 requests reach the drained backend', async () => {
    const drained = await rawRequest(`${adminUrl}/admin/services/default/backends/state?url=${encodeURIComponent(c.url)}`, {
      method: 'PUT',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'drained' }),
    });
    const answeredAt = performance.now();
    expect(drained.status).toBe(200);
    const { reached, ms } = await measureUntilEveryWorkerShows(answeredAt, (backends) => backends.get(c.url) === 'drained');
    console.log(`drain on one worker → ${ANSWERS_IN_A_ROW} fresh answers in a row show c drained: ${ms.toFixed(0)} ms`);
    expect(reached).toBe(true);
    expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS);

    await sleep(Math.max(0, answeredAt + PROPAGATION_LIMIT_MS - performance.now()));
    const seenByC = c.requests.length;
    const { bodies, servedBy } = await fortyRequests('/after-drain');
    expect(servedBy).toHaveLength(2);
    expect(bodies.filter((body) => body !== 'a')).toEqual([]);
    expect(c.requests.length).toBe(seenByC);
    for (let i = 0; i < ANSWERS_IN_A_ROW; i++) expect((await defaultBackends()).get(c.url)).toBe('drained');
  });
});
