import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

/** Every try of a request adds listeners to its client's response; the retries allowed must not look like a leak. */
describe.each(ENGINES)('listeners of a retried request (%s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({ handler: (_req, res) => res.writeHead(503).end('down') });
    gateway = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`, '--retries=4', '--breaker-failures=0', '--rate-limit=0']);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('raises no MaxListenersExceededWarning over five tries', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const response = await rawRequest(`${gateway.url}/retried`);
      expect(response.status).toBe(503);
      expect(backend.requests.filter((request) => request.url === '/retried').length).toBe(5);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((name) => name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
