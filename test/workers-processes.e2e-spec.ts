import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { rawRequest } from './support/http.js';
import { childrenOf, commandLineOf, killAll, startWorkers, type WorkersGateway } from './support/workers.js';

describe('--workers=2', () => {
  let backend: TestBackend;
  let workers: WorkersGateway | undefined;

  beforeAll(async () => {
    backend = await startBackend({ name: 'only' });
    workers = await startWorkers(['--workers=2', `--backends=${backend.url}`]);
  });

  afterAll(async () => {
    killAll(workers?.pid);
    await backend?.close();
  });

  it('starts exactly two worker processes, the primary\'s only children', () => {
    const children = childrenOf(workers!.pid);
    expect(children).toHaveLength(2);
    for (const child of children) expect(commandLineOf(child)).toContain(commandLineOf(workers!.pid).at(-1));
  });

  it('gives the workers the young generation flag the primary re-executed itself with, once, without re-executing them', () => {
    const primary = commandLineOf(workers!.pid);
    expect(primary.filter((arg) => arg.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=16']);
    for (const child of childrenOf(workers!.pid)) {
      expect(commandLineOf(child).filter((arg) => arg.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=16']);
    }
  });

  it('serves on the one port the primary announced', async () => {
    const response = await rawRequest(`${workers!.url}/`);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('only');
  });
});
