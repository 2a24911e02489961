import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { type RawResponse, rawRequest } from './support/http.js';

/** The documented cookie value: the first 16 hex characters of sha256(backend URL as configured). */
function affinityOf(backend: TestBackend): string {
  return createHash('sha256').update(backend.url).digest('hex').slice(0, 16);
}

/** A backend that answers with its name (header and body) and a Set-Cookie of its own. */
function answerAs(name: string, res: ServerResponse, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'x-backend': name, 'set-cookie': 'app=1' }).end(name);
}

/** One answer as the client saw it. */
interface Answer {
  readonly status: number;
  /** The backend that answered (its X-Backend header). */
  readonly backend: string;
  /** Every Set-Cookie line, as sent. */
  readonly setCookies: readonly string[];
}

function answerOf(response: RawResponse): Answer {
  const header = response.headers['set-cookie'];
  return { status: response.status, backend: String(response.headers['x-backend'] ?? ''), setCookies: header ?? [] };
}

/** The Set-Cookie lines for cookie `name`. */
function setCookiesNamed(answer: Answer, name: string): string[] {
  return answer.setCookies.filter((line) => line.startsWith(`${name}=`));
}

/** The value of the one Set-Cookie line for `name` (fails the test when there is not exactly one). */
function cookieValueSet(answer: Answer, name: string): string {
  const lines = setCookiesNamed(answer, name);
  expect(lines, `Set-Cookie ${name} from ${answer.backend}`).toHaveLength(1);
  return lines[0]!.slice(name.length + 1).split(';')[0]!;
}

/** A tiny cookie jar: what a browser keeps of Set-Cookie (name → value) and sends back in Cookie. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  take(answer: Answer): void {
    for (const line of answer.setCookies) {
      const pair = line.split(';')[0]!;
      const equals = pair.indexOf('=');
      this.cookies.set(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim());
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  header(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }
}

async function send(gateway: TestGateway, target: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const method = options.method ?? 'GET';
  const headers = { ...options.headers, ...(method === 'GET' ? {} : { 'content-length': '0' }) };
  return answerOf(await rawRequest(`${gateway.url}${target}`, { method, headers }));
}

/** `count` requests from `client` (its jar updated from every answer when `follow`), `concurrency` at a time, in order of sending. */
async function sendMany(
  gateway: TestGateway,
  count: number,
  options: { jar?: CookieJar; follow?: boolean; concurrency?: number; afterEach?: (answered: number) => Promise<void> } = {},
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const answer = await send(gateway, `/r/${index}`, { headers: options.jar?.header() });
      answers[index] = answer;
      if (options.follow) options.jar!.take(answer);
      await options.afterEach?.(index + 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  return answers;
}

/** One request without a cookie to each backend (round robin takes them in turn): backend name → the srv value it set. */
async function cookiesByBackend(gateway: TestGateway, backends: number, name = 'srv', method = 'GET'): Promise<Map<string, string>> {
  const byBackend = new Map<string, string>();
  for (let i = 0; i < backends; i++) {
    const answer = await send(gateway, `/discover/${i}`, { method });
    expect(answer.status).toBe(200);
    byBackend.set(answer.backend, cookieValueSet(answer, name));
  }
  expect(byBackend.size).toBe(backends);
  return byBackend;
}

describe.each(ENGINES)('sticky sessions by cookie (%s)', (engine) => {
  const backends: TestBackend[] = [];
  const gateways: TestGateway[] = [];
  let dir: string | undefined;

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function threeBackends(handlers: Partial<Record<string, (name: string, res: ServerResponse, method: string) => void>> = {}): Promise<Map<string, TestBackend>> {
    const byName = new Map<string, TestBackend>();
    for (const name of ['a', 'b', 'c']) {
      const handler = handlers[name] ?? ((own: string, res: ServerResponse) => answerAs(own, res));
      const backend = await startBackend({ name, handler: (req, res) => handler(name, res, req.method ?? '') });
      backends.push(backend);
      byName.set(name, backend);
    }
    return byName;
  }

  async function gatewayOver(byName: Map<string, TestBackend>, ...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(...byName.values()), '--sticky-cookie=srv', '--rate-limit=0', ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  it('sets exactly one srv cookie on the first answer, 16 hex characters that hide the address, beside the backend’s own app=1', async () => {
    const byName = await threeBackends();
    const gateway = await gatewayOver(byName);

    const first = await send(gateway, '/');
    expect(first.status).toBe(200);
    const lines = setCookiesNamed(first, 'srv');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^srv=[0-9a-f]{16}; Path=\/; HttpOnly; SameSite=Lax$/);
    const value = cookieValueSet(first, 'srv');
    const answering = byName.get(first.backend)!;
    expect(value).not.toContain('127.0.0.1');
    expect(value).not.toContain(String(answering.port));
    // The backend's own cookie is passed on too, untouched.
    expect(first.setCookies).toContain('app=1');
    expect(first.setCookies).toHaveLength(2);
  });

  it('keeps a client holding the cookie on its backend for 100 requests, and sets no srv cookie on them', async () => {
    const byName = await threeBackends();
    const gateway = await gatewayOver(byName);
    const first = await send(gateway, '/');
    const jar = new CookieJar();
    jar.take(first); // srv and app, as a browser would send them back

    const counts = () => [...byName.values()].map((backend) => backend.requests.length);
    const before = counts();
    const answers = await sendMany(gateway, 100, { jar });
    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(200));
    expect(new Set(answers.map((answer) => answer.backend))).toEqual(new Set([first.backend]));
    expect(answers.filter((answer) => setCookiesNamed(answer, 'srv').length > 0)).toEqual([]);
    expect(answers.every((answer) => answer.setCookies.includes('app=1'))).toBe(true);
    // Only that backend saw them: the other two got nothing.
    const after = counts();
    const names = [...byName.keys()];
    expect(names.map((_name, i) => after[i]! - before[i]!)).toEqual(names.map((name) => (name === first.backend ? 100 : 0)));
  });

  it('moves a client whose backend dies to another without a failed request, and keeps it there once it follows the new cookie', async () => {
    const byName = await threeBackends();
    const gateway = await gatewayOver(byName);
    const values = await cookiesByBackend(gateway, 3);
    const jar = new CookieJar();
    jar.set('srv', values.get('a')!);

    // 60 sequential requests: a dies (closed, connections cut) after the 10th answer.
    const answers = await sendMany(gateway, 60, {
      jar,
      follow: true,
      afterEach: async (answered) => {
        if (answered === 10) await byName.get('a')!.close();
      },
    });
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    const before = answers.slice(0, 10);
    const after = answers.slice(10);
    expect(before.map((answer) => answer.backend)).toEqual(Array(10).fill('a'));
    expect(before.filter((answer) => setCookiesNamed(answer, 'srv').length > 0)).toEqual([]);

    // The first answer after a died names its new backend, with the value that backend sets anyone.
    const moved = after[0]!;
    expect(moved.backend).not.toBe('a');
    expect(cookieValueSet(moved, 'srv')).toBe(values.get(moved.backend));
    // Following it, the client stays there, and nothing needs setting again.
    expect(after.map((answer) => answer.backend)).toEqual(Array(50).fill(moved.backend));
    expect(after.slice(1).filter((answer) => setCookiesNamed(answer, 'srv').length > 0)).toEqual([]);
    expect(jar.get('srv')).toBe(values.get(moved.backend));
  });

  it('names the backend that answered after a retry: a GET held to a 503 backend gets another’s 200 and that backend’s cookie', async () => {
    // a answers 503 to GETs (a retried status), 200 to anything else.
    const byName = await threeBackends({ a: (name, res, method) => answerAs(name, res, method === 'GET' ? 503 : 200) });
    const gateway = await gatewayOver(byName);
    // POSTs (which a answers) learn each backend's cookie from the gateway itself.
    const values = await cookiesByBackend(gateway, 3, 'srv', 'POST');
    expect(values.get('a')).toBe(affinityOf(byName.get('a')!));

    const a = byName.get('a')!;
    for (let i = 0; i < 3; i++) {
      const getsAtA = a.requests.filter((recorded) => recorded.method === 'GET').length;
      const answer = await send(gateway, `/held-to-a/${i}`, { headers: { cookie: `srv=${values.get('a')}` } });
      // a was tried first (the cookie sent it there) and its 503 retried elsewhere.
      expect(a.requests.filter((recorded) => recorded.method === 'GET').length).toBe(getsAtA + 1);
      expect(answer.status).toBe(200);
      expect(['b', 'c']).toContain(answer.backend);
      const value = cookieValueSet(answer, 'srv');
      expect(value).toBe(affinityOf(byName.get(answer.backend)!));
      expect(value).toBe(values.get(answer.backend));
      expect(value).not.toBe(values.get('a'));
    }
  });

  it('names the backend whose error the client gets when every try fails (a 503 kept while the others were tried)', async () => {
    const byName = await threeBackends({ a: (name, res) => answerAs(name, res, 503), b: (name, res) => answerAs(name, res, 503) });
    const gateway = await gatewayOver(byName);
    // c refuses connections: a try at it last passes on the 503 kept from an earlier one.
    await byName.get('c')!.close();
    for (let i = 0; i < 3; i++) {
      const answer = await send(gateway, `/failing/${i}`);
      expect(answer.status).toBe(503);
      expect(['a', 'b']).toContain(answer.backend);
      // Whichever backend's 503 is passed on, the cookie names that one.
      expect(cookieValueSet(answer, 'srv')).toBe(affinityOf(byName.get(answer.backend)!));
    }
  });

  it('gives every gateway over the same backends the same cookie values, so a cookie from one holds on the other', async () => {
    const byName = await threeBackends();
    const one = await gatewayOver(byName);
    const two = await gatewayOver(byName);
    const fromOne = await cookiesByBackend(one, 3);
    const fromTwo = await cookiesByBackend(two, 3);
    expect(Object.fromEntries(fromTwo)).toEqual(Object.fromEntries(fromOne));

    // Round robin on gateway 2 would spread these over all three; the cookie from gateway 1 holds them on b.
    const jar = new CookieJar();
    jar.set('srv', fromOne.get('b')!);
    const answers = await sendMany(two, 20, { jar });
    expect(answers.map((answer) => `${answer.status} ${answer.backend}`)).toEqual(Array(20).fill('200 b'));
    expect(answers.filter((answer) => setCookiesNamed(answer, 'srv').length > 0)).toEqual([]);
  });

  it('answers a cookie that names no backend (srv=garbage) normally, and sets a valid cookie for the backend that answered', async () => {
    const byName = await threeBackends();
    const gateway = await gatewayOver(byName);
    for (let i = 0; i < 3; i++) {
      const answer = await send(gateway, `/garbage/${i}`, { headers: { cookie: 'srv=garbage' } });
      expect(answer.status).toBe(200);
      expect(byName.has(answer.backend)).toBe(true);
      expect(setCookiesNamed(answer, 'srv')).toEqual([`srv=${affinityOf(byName.get(answer.backend)!)}; Path=/; HttpOnly; SameSite=Lax`]);
    }
  });

  it('takes the cookie’s attributes from a config file (Secure, SameSite=Strict, no HttpOnly) and holds 30 requests over least-request', async () => {
    // Slow answers, so requests overlap and least-request has in-flight counts to go by.
    const byName = await threeBackends(
      Object.fromEntries(['a', 'b', 'c'].map((name) => [name, (own: string, res: ServerResponse) => void setTimeout(() => answerAs(own, res), 15)])),
    );
    dir = mkdtempSync(join(tmpdir(), 'gateway-sticky-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      toYaml({
        services: {
          app: {
            balance: 'least-request',
            sticky: { cookie: 'sid', secure: true, httpOnly: false, sameSite: 'Strict' },
            backends: [...byName.values()].map((backend) => backend.url),
          },
        },
        routes: [{ service: 'app' }],
      }),
    );
    const gateway = await startGateway([`--proxy-engine=${engine}`, `--config=${file}`, '--rate-limit=0']);
    gateways.push(gateway);

    // Without the cookie, least-request spreads overlapping requests, and every answer sets sid.
    const loose = await sendMany(gateway, 30, { concurrency: 6 });
    expect(loose.map((answer) => answer.status)).toEqual(Array(30).fill(200));
    expect(new Set(loose.map((answer) => answer.backend)).size).toBeGreaterThan(1);
    for (const answer of loose) {
      const [line] = setCookiesNamed(answer, 'sid');
      expect(line).toBe(`sid=${affinityOf(byName.get(answer.backend)!)}; Path=/; Secure; SameSite=Strict`);
      expect(line!.toLowerCase()).not.toContain('httponly');
      expect(setCookiesNamed(answer, 'sid')).toHaveLength(1);
    }

    // With it, the same load stays on one backend.
    const jar = new CookieJar();
    jar.take(loose[0]!);
    const held = await sendMany(gateway, 30, { jar, concurrency: 6 });
    expect(held.map((answer) => `${answer.status} ${answer.backend}`)).toEqual(Array(30).fill(`200 ${loose[0]!.backend}`));
    expect(held.filter((answer) => setCookiesNamed(answer, 'sid').length > 0)).toEqual([]);
  });
});
