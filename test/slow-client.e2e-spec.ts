import { createHash } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

const BODY = Buffer.alloc(16 * 1024 * 1024, 'abcdefghij');

describe.each(ENGINES)('a client slower than its backend (%s)', (engine) => {
  let backend: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('gets the whole body although it stops reading for longer than --write-timeout: the backend is not the silent one', async () => {
    backend = await startBackend({ handler: (_req, res) => res.writeHead(200, { 'content-length': BODY.length }).end(BODY) });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend), '--write-timeout=300ms', '--rate-limit=0']);
    const received = await new Promise<{ bytes: number; sha256: string; complete: boolean }>((resolve, reject) => {
      http
        .get(`${gateway!.url}/large`, (res) => {
          const hash = createHash('sha256');
          let bytes = 0;
          let paused = false;
          res.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            bytes += chunk.length;
            // Halfway, stop reading for 1 s: the gateway's buffers fill and it must wait, not cut.
            if (!paused && bytes > BODY.length / 2) {
              paused = true;
              res.pause();
              void sleep(1_000).then(() => res.resume());
            }
          });
          res.on('end', () => resolve({ bytes, sha256: hash.digest('hex'), complete: res.complete }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(received).toEqual({ bytes: BODY.length, sha256: createHash('sha256').update(BODY).digest('hex'), complete: true });
  });
});
