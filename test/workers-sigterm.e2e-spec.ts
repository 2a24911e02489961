import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { type LoadResult, runLoad, tally } from './support/load.js';
import { childrenOf, isRunning, killAll, startWorkers, type WorkersGateway } from './support/workers.js';

describe('SIGTERM to the primary of two workers during steady traffic', () => {
  let backend: TestBackend;
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    // Slow enough that requests are in flight at every moment.
    backend = await startBackend({ handler: (_req, res) => setTimeout(() => res.end('done'), 150) });
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await backend?.close();
  });

  it('answers every request in flight, leaves no worker behind and exits 0', async () => {
    workers = await startWorkers(['--workers=2', `--backends=${backend.url}`, '--rate-limit=0']);
    const workerPids = childrenOf(workers.pid);
    expect(workerPids).toHaveLength(2);
    let signalledAtMs: number | undefined;
    const started = performance.now();
    const results = await runLoad({
      url: `${workers.url}/work`,
      total: 10_000,
      concurrency: 8,
      freshConnections: true,
      onAnswer: () => {
        if (signalledAtMs === undefined && performance.now() - started > 600) {
          signalledAtMs = performance.now() - started;
          workers!.gateway.child.kill('SIGTERM');
        }
      },
      // Until the gateway has stopped answering for a while.
      until: () => signalledAtMs !== undefined && performance.now() - started > signalledAtMs + 600,
    });
    expect(await workers.gateway.exited).toBe(0);
    for (const pid of workerPids) expect(isRunning(pid), `worker ${pid}`).toBe(false);

    const before = results.filter((result: LoadResult) => result.sentAtMs < signalledAtMs! - 5);
    // Every request sent before the signal was answered in full.
    expect(tally(before)).toEqual({ 200: before.length });
    expect(before.length).toBeGreaterThan(20);
    // After it: answered, or refused once the listener closed; a connection the kernel had queued
    // as the listener closed is reset (as with one gateway: test/fault-sigterm-mid-stream).
    const after = tally(results.filter((result) => result.sentAtMs >= signalledAtMs! - 5));
    expect(Object.keys(after).filter((outcome) => !['200', 'ECONNREFUSED', 'ECONNRESET'].includes(outcome))).toEqual([]);
    expect(after.ECONNRESET ?? 0).toBeLessThanOrEqual(8);
    expect(backend.requests.length).toBe(results.filter((result) => result.status === 200).length);
  });
});
