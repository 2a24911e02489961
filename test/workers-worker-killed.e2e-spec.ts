import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { rawRequest } from './support/http.js';
import { runLoad, tally } from './support/load.js';
import { LEVEL, linesOf } from './support/log-lines.js';
import { parseExposition } from './support/prometheus-text.js';
import { childrenOf, killAll, startWorkers, waitFor, type WorkersGateway } from './support/workers.js';

describe('a worker killed with SIGKILL', () => {
  let backend: TestBackend;
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    backend = await startBackend();
    workers = await startWorkers(['--workers=2', `--backends=${backend.url}`, '--rate-limit=0']);
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await backend?.close();
  });

  it('is replaced, logged once and counted, while fresh connections are served by the other', async () => {
    const [victim, survivor] = childrenOf(workers!.pid);
    process.kill(victim, 'SIGKILL');
    const deathLine = () => linesOf(workers!.gateway).find((line) => line.level === LEVEL.warn && line.msg.includes(`worker ${victim} died`));
    await waitFor(() => deathLine() !== undefined, 5_000, 'the primary to log the death');
    expect(deathLine()!.msg).toContain('signal SIGKILL');

    // From the moment the primary knows, every new connection goes to a live worker. (Connections
    // the killed worker held were reset with it; that is what SIGKILL does to a process's sockets.)
    const meanwhile = await runLoad({ url: `${workers!.url}/`, total: 60, concurrency: 3, freshConnections: true });
    expect(tally(meanwhile)).toEqual({ 200: 60 });

    await waitFor(() => childrenOf(workers!.pid).length === 2, 10_000, 'a replacement worker');
    const children = childrenOf(workers!.pid);
    expect(children).toContain(survivor);
    expect(children).not.toContain(victim);
    const replacement = children.find((pid) => pid !== survivor)!;
    // Once it listens, the replacement is counted in /metrics with the survivor.
    type Whole = { workers: { restarts: number; processes: { pid: number }[] } };
    let json: Whole | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      json = JSON.parse((await rawRequest(`${workers!.url}/metrics`)).body.toString()) as Whole;
      if (json.workers.processes.length === 2) break;
      await sleep(100);
    }
    expect(json!.workers.restarts).toBe(1);
    expect(json!.workers.processes.map(({ pid }) => pid)).toEqual(expect.arrayContaining([survivor, replacement]));
    const prometheus = parseExposition((await rawRequest(`${workers!.url}/metrics?format=prometheus`)).body.toString());
    expect(prometheus.samples.find((sample) => sample.name === 'gateway_worker_restarts_total')?.value).toBe(1);
    expect(linesOf(workers!.gateway).filter((line) => line.level === LEVEL.warn && line.msg.includes('died'))).toHaveLength(1);
  });
});
