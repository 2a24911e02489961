import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';

describe.each(ENGINES)('dot segments in the request path, behind a backend with a path prefix (raw sockets, %s)', (engine) => {
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    backend = await startBackend();
    gateway = await startGateway([`--backends=${backend.url}/api`, `--proxy-engine=${engine}`]);
  });

  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  /** One request line sent as is; the status the client got and the paths the backend received meanwhile. */
  async function send(target: string): Promise<{ status: number | undefined; reached: string[]; raw: string }> {
    const before = backend.requests.length;
    const raw = await sendRaw(gateway.port, `GET ${target} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`);
    return { status: firstStatus(raw), reached: backend.requests.slice(before).map((request) => request.url), raw };
  }

  it.each(['/../secret', '/%2e%2e/secret', '/%2E%2E/secret', '/.%2e/secret', '/a/../../secret', '/a/%2e%2e/%2e%2e/secret', '/..'])(
    'answers 400 to %s, which climbs above the root, and forwards nothing',
    async (target) => {
      const { status, reached, raw } = await send(target);
      expect(status).toBe(400);
      expect(raw).toContain('"statusCode":400');
      expect(reached).toEqual([]);
    },
  );

  it.each([
    ['/a/../b', '/api/b'],
    ['/a/%2e%2e/b', '/api/b'],
    ['/a/./b', '/api/a/b'],
    ['/a/%2E/b', '/api/a/b'],
    ['/a/b/..', '/api/a/'],
    ['/a/.', '/api/a/'],
    ['/a/../b?next=/../x', '/api/b?next=/../x'],
    ['/..a/b.', '/api/..a/b.'],
    ['/a/...', '/api/a/...'],
  ])('forwards %s with its dot segments removed, under the prefix: %s', async (target, expected) => {
    const { status, reached } = await send(target);
    expect(status).toBe(200);
    expect(reached).toEqual([expected]);
  });

  it('leaves a path without dot segments exactly as sent', async () => {
    const { reached } = await send('/users/%2e%2eish/a.b?q=%2e%2e');
    expect(reached).toEqual(['/api/users/%2e%2eish/a.b?q=%2e%2e']);
  });
});
