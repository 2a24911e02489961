import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { type LoadResult, runLoad, tally } from './support/load.js';

/** How many answers came from each backend, by the name each backend answers with. */
function answersBy(results: readonly LoadResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) counts[result.body] = (counts[result.body] ?? 0) + 1;
  return counts;
}

/** The longest run of consecutive answers from `name`. */
function longestRun(results: readonly LoadResult[], name: string): number {
  let longest = 0;
  let run = 0;
  for (const result of results) {
    run = result.body === name ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

describe.each(ENGINES)('weighted round robin (%s)', (engine) => {
  const backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function backendsNamed(...names: string[]): Promise<TestBackend[]> {
    const started = await Promise.all(names.map((name) => startBackend({ name })));
    backends.push(...started);
    return started;
  }

  /** A gateway on a real config file with one service `web` that takes every request. */
  async function gatewayOnConfig(serviceYaml: string): Promise<TestGateway> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-wrr-'));
    const file = path.join(dir, 'gateway.yaml');
    fs.writeFileSync(file, `services:\n  web:\n${serviceYaml}\nroutes:\n  - service: web\n`);
    gateway = await startGateway([`--proxy-engine=${engine}`, `--config=${file}`, '--rate-limit=0']);
    return gateway;
  }

  it('sends 75 % (± 3 %) of 4,000 concurrent keep-alive requests to the backend of weight 3 beside one of weight 1', async () => {
    const [a, b] = await backendsNamed('a', 'b');
    const { url } = await gatewayOnConfig(`    balance: round-robin\n    backends:\n      - { url: ${a.url}, weight: 3 }\n      - ${b.url}\n`);

    const results = await runLoad({ url: `${url}/`, total: 4_000, concurrency: 8 });

    expect(tally(results)).toEqual({ '200': 4_000 });
    const counts = answersBy(results);
    expect(Object.keys(counts).sort()).toEqual(['a', 'b']);
    expect(counts.a / 4_000).toBeGreaterThanOrEqual(0.72);
    expect(counts.a / 4_000).toBeLessThanOrEqual(0.78);
    // The backends' own records agree with the bodies: each answer came from the backend that got the request.
    expect(a.requests.length + b.requests.length).toBe(4_000);
    expect(a.requests.length).toBe(counts.a);
  });

  it('spreads weights 5, 1, 1 (balance left out) over 70 sequential requests: at most 4 of A in a row, exactly 10 each to B and C', async () => {
    const [a, b, c] = await backendsNamed('a', 'b', 'c');
    // No `balance`: round robin is the default, and it honours weights.
    const { url } = await gatewayOnConfig(`    backends:\n      - { url: ${a.url}, weight: 5 }\n      - ${b.url}\n      - { url: ${c.url}, weight: 1 }\n`);

    // One client, one request at a time: the answers' order is the order of the picks.
    const results = await runLoad({ url: `${url}/`, total: 70, concurrency: 1 });

    expect(tally(results)).toEqual({ '200': 70 });
    // Smooth WRR cycles a a b a c a a: the longest run of A is 4, across a cycle boundary (… a a | a a b …).
    // Plain WRR (a a a a a b c) would give runs of 5 or more.
    expect(longestRun(results, 'a')).toBeLessThanOrEqual(4);
    expect(answersBy(results)).toEqual({ a: 50, b: 10, c: 10 });
  });

  it('gives each of 3 equal backends exactly a third of 300 sequential requests with --balance=round-robin alone', async () => {
    const [a, b, c] = await backendsNamed('a', 'b', 'c');
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(a, b, c), '--balance=round-robin', '--rate-limit=0']);

    const results = await runLoad({ url: `${gateway.url}/`, total: 300, concurrency: 1 });

    expect(tally(results)).toEqual({ '200': 300 });
    expect(answersBy(results)).toEqual({ a: 100, b: 100, c: 100 });
    expect([a, b, c].map((backend) => backend.requests.length)).toEqual([100, 100, 100]);
  });
});
