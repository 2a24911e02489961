import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { ENGINES } from './support/engines.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.each(ENGINES)('request bodies (%s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    // Echo what arrived, so the client can compare too.
    backend = await startBackend({
      handler: (_req, res, body) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(body);
      },
    });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(backend)]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it('forwards a 1 MB JSON POST byte-identical, with its Content-Length', async () => {
    const body = Buffer.from(JSON.stringify({ blob: randomBytes(768 * 1024).toString('base64'), n: 1 }));
    expect(body.length).toBeGreaterThan(1_000_000);
    const response = await request(gateway.url)
      .post('/upload')
      .set('content-type', 'application/json')
      .send(body.toString())
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const received = backend.requests.at(-1)!;
    expect(received.headers['content-length']).toBe(String(body.length));
    expect(received.bodySha256).toBe(sha256(body));
    expect(sha256(response.body as Buffer)).toBe(sha256(body));
  });

  it('forwards a chunked upload byte-identical', async () => {
    const body = randomBytes(300 * 1024);
    const response = await rawRequest(`${gateway.url}/stream-up`, { method: 'PUT', body, chunks: 7 });
    expect(response.status).toBe(200);
    const received = backend.requests.at(-1)!;
    expect(received.headers['transfer-encoding']).toBe('chunked');
    expect(received.bodySha256).toBe(sha256(body));
    expect(sha256(response.body)).toBe(sha256(body));
  });
});
