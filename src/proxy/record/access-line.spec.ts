import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { JsonLineEncoder } from '../../logging/json-line-encoder.js';
import { AccessLine, encodeAccessLine, maxLineBytes, toJsonLine } from './access-line.js';

function request(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method: 'GET', url, headers: { 'x-request-id': 'id-1', ...headers }, socket: { bytesRead: 120, bytesWritten: 340 } } as unknown as IncomingMessage;
}

function line(url: string, cause: string | null = null, refused?: number, headers?: Record<string, string>) {
  return new AccessLine(request(url, headers), '127.0.0.1', 200, 'backend', 'http://b:8080', 1.5, 2.3, 0, cause, refused);
}

describe(toJsonLine.name, () => {
  it('writes what pino would write for the same fields: level and time first, msg last, one line', () => {
    const text = toJsonLine(line('/users/7?x=1'), 30, 1_700_000_000_000, 'request completed');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    expect(JSON.parse(text)).toEqual({
      level: 30,
      time: 1_700_000_000_000,
      reqId: 'id-1',
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      client: '127.0.0.1',
      method: 'GET',
      url: '/users/7?x=1',
      status: 200,
      answeredBy: 'backend',
      backend: 'http://b:8080',
      upstreamMs: 1.5,
      ms: 2.3,
      retries: 0,
      cause: null,
      bytesIn: 120,
      bytesOut: 340,
      msg: 'request completed',
    });
    expect(Object.keys(JSON.parse(text))).toEqual(['level', 'time', 'reqId', 'traceId', 'client', 'method', 'url', 'status', 'answeredBy', 'backend', 'upstreamMs', 'ms', 'retries', 'cause', 'bytesIn', 'bytesOut', 'msg']);
  });

  it.each([['/a"b'], ['/back\\slash'], ['/tab\there'], ['/new\nline'], ['/ünïcode✓'], ['/\u2028']])('keeps the line valid JSON and one line for the url %j', (url) => {
    // A request id may hold any visible ASCII, quotes and backslashes included.
    const text = toJsonLine(line(url, `cause with ${url}`, undefined, { 'x-request-id': 'id"\\x' }), 40, 1, 'request completed');
    expect(text.indexOf('\n')).toBe(text.length - 1);
    const parsed = JSON.parse(text);
    expect([parsed.url, parsed.cause, parsed.reqId]).toEqual([url, `cause with ${url}`, 'id"\\x']);
  });

  it('adds refused on a 429 line only', () => {
    expect(JSON.parse(toJsonLine(line('/x', 'rate limited', 17), 30, 1, 'request refused')).refused).toBe(17);
    expect(JSON.parse(toJsonLine(line('/x'), 30, 1, 'request completed'))).not.toHaveProperty('refused');
  });
});

describe(encodeAccessLine.name, () => {
  const encode = (accessLine: AccessLine, level = 30, message = 'request completed') => {
    const out = new JsonLineEncoder();
    out.buffer = Buffer.alloc(maxLineBytes(accessLine, message));
    encodeAccessLine(out, accessLine, level, 1_700_000_000_123, message);
    return out.buffer.toString('utf8', 0, out.at);
  };

  it.each([
    ['a plain line', line('/users/7?x=1')],
    ['a 429 line', line('/x', 'rate limited', 17)],
    ['escapes and non-ASCII', line('/a"b\\c', 'cause ✓ with\nnewline', undefined, { 'x-request-id': 'id"\\x' })],
    ['no upstream time and whole milliseconds', new AccessLine(request('/'), '::1', 502, 'gateway', null, null, 3, 2, 'ECONNREFUSED', undefined)],
    ['a time under a millisecond', new AccessLine(request('/'), '10.0.0.1', 200, 'backend', 'http://b', 0.1, 0.3, 0, null, undefined)],
  ])('writes %s byte for byte as toJsonLine does', (_case, accessLine) => {
    expect(encode(accessLine)).toBe(toJsonLine(accessLine, 30, 1_700_000_000_123, 'request completed'));
  });

  it('stays within the room it asked for, even for a line made of characters that need escaping', () => {
    const worst = line('/\u0001'.repeat(200), '\u0002'.repeat(300));
    const text = encode(worst);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxLineBytes(worst, 'request completed'));
    expect(JSON.parse(text).url).toBe('/\u0001'.repeat(200));
  });
});
