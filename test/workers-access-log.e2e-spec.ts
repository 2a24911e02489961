import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { runLoad, tally } from './support/load.js';
import { killAll, startWorkers, type WorkersGateway } from './support/workers.js';

describe('the access log of two workers', () => {
  const sent = 3_000;
  let backend: TestBackend;
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await backend?.close();
  });

  it('is one whole JSON line per request on the primary\'s stdout, though each worker writes batches far past PIPE_BUF', async () => {
    workers = await startWorkers(['--workers=2', `--backends=${backend.url}`, '--rate-limit=0', '--access-log=true']);
    // Long URLs make long lines: a 32 KiB batch holds only a dozen, and both workers write at once.
    const path = `/${'p'.repeat(2_000)}`;
    // A reader that keeps falling behind: the pipe fills, and writes to it go out in pieces, which is
    // when two writers' batches would interleave mid-line.
    const stdout = workers.gateway.child.stdout;
    const stutter = setInterval(() => (stdout.isPaused() ? stdout.resume() : stdout.pause()), 30);
    const results = await runLoad({ url: `${workers.url}${path}`, total: sent, concurrency: 8 }).finally(() => {
      clearInterval(stutter);
      stdout.resume();
    });
    expect(tally(results)).toEqual({ 200: sent });
    workers.gateway.child.kill('SIGTERM');
    expect(await workers.gateway.exited).toBe(0);

    const lines = workers.gateway.output().stdout.split('\n').filter((line) => line !== '');
    const parsed = lines.map((line, index) => {
      try {
        return JSON.parse(line) as { msg?: string; url?: string; pid?: number };
      } catch {
        throw new Error(`line ${index} is not JSON (${line.length} bytes): ${line.slice(0, 120)}…${line.slice(-120)}`);
      }
    });
    const requestLines = parsed.filter((line) => line.msg === 'request completed');
    expect(requestLines).toHaveLength(sent);
    expect(requestLines.every((line) => line.url === path)).toBe(true);
  });
});
