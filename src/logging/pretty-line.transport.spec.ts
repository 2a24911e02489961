import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prettyLineTarget } from './pretty-line.target.js';
import { terminalMessage } from './pretty-line.transport.js';

const completed = {
  msg: 'request completed',
  reqId: 'r-1',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  client: '127.0.0.1',
  method: 'GET',
  url: '/users?page=2',
  status: 200,
  answeredBy: 'backend',
  backend: 'http://localhost:8080',
  upstreamMs: 2.9,
  ms: 3.1,
  retries: 0,
  cause: null,
  bytesIn: 80,
  bytesOut: 200,
};

describe(terminalMessage.name, () => {
  it('renders a proxied request as one sentence', () => {
    expect(terminalMessage(completed, 'msg')).toBe('GET /users?page=2 200 3.1ms → http://localhost:8080 (reqId r-1, client 127.0.0.1)');
  });

  it('says why, how many retries, and who answered when the gateway did', () => {
    const failed = { ...completed, status: 502, answeredBy: 'gateway', retries: 2, cause: 'connect ECONNREFUSED', ms: 12.3 };
    expect(terminalMessage(failed, 'msg')).toBe(
      'GET /users?page=2 502 12.3ms → http://localhost:8080 [connect ECONNREFUSED, 2 retries, answered by the gateway] (reqId r-1, client 127.0.0.1)',
    );
  });

  it('counts the refusals a rate-limited line stands for', () => {
    const refused = { ...completed, msg: 'request refused', status: 429, answeredBy: 'gateway', backend: null, cause: 'rate limited', refused: 12, ms: 0.1 };
    expect(terminalMessage(refused, 'msg')).toBe('GET /users?page=2 429 0.1ms [rate limited, 12 refused, answered by the gateway] (reqId r-1, client 127.0.0.1)');
  });

  it('says when the client left before an answer', () => {
    const left = { ...completed, status: 499, answeredBy: null, backend: null, retries: 1 };
    expect(terminalMessage(left, 'msg')).toBe('GET /users?page=2 499 3.1ms [1 retry, client left] (reqId r-1, client 127.0.0.1)');
  });

  it('prefixes any other line with its context', () => {
    expect(terminalMessage({ msg: 'listening on http://[::]:3000', context: 'Gateway' }, 'msg')).toBe('[Gateway] listening on http://[::]:3000');
    expect(terminalMessage({ msg: 'no context' }, 'msg')).toBe('no context');
  });
});

describe('the terminal transport, loaded by pino from the sources', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'pretty-line-'));
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes one line per log: time, level, message', async () => {
    const file = join(folder, 'out.log');
    const transport = pino.transport({ target: prettyLineTarget(), options: { destination: file, colorize: false, mkdir: true } });
    const logger = pino({ base: undefined }, transport);
    logger.info(completed, 'request completed');
    logger.info({ context: 'Gateway' }, 'listening on http://127.0.0.1:3000');
    await new Promise<void>((resolve) => {
      transport.once('close', resolve);
      transport.end();
    });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO: GET \/users\?page=2 200 3\.1ms → http:\/\/localhost:8080 \(reqId r-1, client 127\.0\.0\.1\)$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO: \[Gateway\] listening on http:\/\/127\.0\.0\.1:3000$/);
  });
});
