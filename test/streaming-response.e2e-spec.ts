import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('a large response (%s)', (engine) => {
  const chunk = Buffer.alloc(256 * 1024, 'x');
  const chunks = 16; // 4 MiB in all
  let releaseRest: () => void = () => {};
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    // The backend sends its first chunk, then holds the rest back until the test says so.
    backend = await startBackend({
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': chunk.length * chunks });
        res.write(chunk);
        releaseRest = () => {
          for (let i = 1; i < chunks; i++) res.write(chunk);
          res.end();
        };
      },
    });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('reaches the client while the backend is still sending it: it is streamed, not buffered whole', async () => {
    const received = await new Promise<number>((resolve, reject) => {
      // Were the response buffered whole, no byte would ever arrive: the backend waits for one.
      const stuck = setTimeout(() => reject(new Error('no byte reached the client before the backend finished')), 10_000);
      http
        .get(`${gateway.url}/big`, { agent: false }, (res) => {
          let bytes = 0;
          let released = false;
          res.on('data', (data: Buffer) => {
            bytes += data.length;
            // Bytes arrived before the backend finished: only streaming can do that.
            if (!released) {
              released = true;
              releaseRest();
            }
          });
          res.on('end', () => {
            clearTimeout(stuck);
            resolve(bytes);
          });
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(received).toBe(chunk.length * chunks);
  });
});
