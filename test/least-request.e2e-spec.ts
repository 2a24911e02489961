import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { type LoadResult, runLoad, tally } from './support/load.js';

/** How long the slow backend takes to answer. */
const SLOW_MS = 200;
/**
 * Every run stops sending after this long, so a broken strategy cannot make the file run for
 * minutes (round robin would give the slow backend half the requests: ~10 s for 2,000 at 20 at once).
 */
const RUN_LIMIT_MS = 12_000;

/** Answers with its name after SLOW_MS. */
function startSlowBackend(): Promise<TestBackend> {
  return startBackend({
    handler: (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('slow');
      }, SLOW_MS);
    },
  });
}

/** The share of answers that came from the backend answering `name`. */
function shareOf(results: readonly LoadResult[], name: string): number {
  return results.filter((result) => result.body === name).length / results.length;
}

describe.each(ENGINES)('least-request balancing (%s)', (engine) => {
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

  /** A load run that stops sending once RUN_LIMIT_MS have passed. */
  function boundedLoad(url: string, total: number, concurrency: number): Promise<LoadResult[]> {
    const deadline = performance.now() + RUN_LIMIT_MS;
    return runLoad({ url, total, concurrency, until: () => performance.now() > deadline });
  }

  it('sends under 10 % of 2,000 requests (20 at once) to a backend that answers in 200 ms beside one that answers at once, with --balance=least-request, and none fails', async () => {
    const slow = await startSlowBackend();
    const fast = await startBackend({ name: 'fast' });
    backends.push(slow, fast);
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(slow, fast), '--balance=least-request', '--rate-limit=0']);

    const results = await boundedLoad(`${gateway.url}/`, 2_000, 20);

    // All sent within the limit, and every one answered by a backend.
    expect(results).toHaveLength(2_000);
    expect(tally(results)).toEqual({ '200': 2_000 });
    // The slow backend holds its requests 200 times longer, so it nearly always has more in flight and loses the comparison.
    expect(shareOf(results, 'slow')).toBeLessThan(0.1);
    expect(slow.requests.length + fast.requests.length).toBe(2_000);
  });

  it('sends under 10 % of 1,000 requests (10 at once) to the slow one of three backends of a service with balance: least-request in --config', async () => {
    const slow = await startSlowBackend();
    const fastOne = await startBackend({ name: 'fast-1' });
    const fastTwo = await startBackend({ name: 'fast-2' });
    backends.push(slow, fastOne, fastTwo);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-least-'));
    const file = path.join(dir, 'gateway.yaml');
    fs.writeFileSync(
      file,
      `services:\n  web:\n    balance: least-request\n    backends:\n      - ${slow.url}\n      - ${fastOne.url}\n      - ${fastTwo.url}\nroutes:\n  - service: web\n`,
    );
    // The flags say round robin: the service's own `balance` must win.
    gateway = await startGateway([`--proxy-engine=${engine}`, `--config=${file}`, '--balance=round-robin', '--rate-limit=0']);

    const results = await boundedLoad(`${gateway.url}/`, 1_000, 10);

    expect(results).toHaveLength(1_000);
    expect(tally(results)).toEqual({ '200': 1_000 });
    expect(shareOf(results, 'slow')).toBeLessThan(0.1);
    // The two fast backends share the rest between them.
    expect(shareOf(results, 'fast-1')).toBeGreaterThan(0.3);
    expect(shareOf(results, 'fast-2')).toBeGreaterThan(0.3);
  });
});
