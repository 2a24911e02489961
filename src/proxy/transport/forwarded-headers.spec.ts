import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { prepareRequestHeaders, responseHeaders, responseHeadersFromBuffers, unmapIpv4 } from './forwarded-headers.js';

/** Runs prepareRequestHeaders on a copy and returns the rewritten headers. */
function prepared(headers: IncomingHttpHeaders, socketAddress = '1.2.3.4', trustProxy = false): IncomingHttpHeaders {
  const copy = { ...headers };
  prepareRequestHeaders(copy, socketAddress, trustProxy);
  return copy;
}

describe(unmapIpv4.name, () => {
  it.each([
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['1.2.3.4', '1.2.3.4'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:abcd', '::ffff:abcd'],
  ])('writes %s as %s', (address, written) => {
    expect(unmapIpv4(address)).toBe(written);
  });
});

describe(prepareRequestHeaders.name, () => {
  it.each([
    ['connection', 'keep-alive'],
    ['keep-alive', 'timeout=5'],
    ['proxy-connection', 'keep-alive'],
    ['proxy-authorization', 'Basic Zm9vOmJhcg=='],
    ['te', 'gzip'],
    ['trailer', 'Expires'],
    ['upgrade', 'websocket'],
  ])('removes the hop-by-hop header %s', (name, value) => {
    expect(prepared({ host: 'gw', [name]: value })).not.toHaveProperty(name);
  });

  it.each(['trailers', 'Trailers', ' trailers ', 'trailers, deflate', 'gzip,trailers'])(
    'keeps only the trailers token of te: %j, which gRPC relies on',
    (value) => {
      expect(prepared({ te: value }).te).toBe('trailers');
    },
  );

  it('does not let Connection remove the Host header', () => {
    const headers = prepared({ host: 'api.example', connection: 'host' });
    expect(headers.host).toBe('api.example');
    expect(headers['x-forwarded-host']).toBe('api.example');
  });

  it('removes every header named in Connection', () => {
    const headers = prepared({ connection: 'close, X-Secret ,x-debug', 'x-secret': '1', 'x-debug': '2', 'x-kept': '3' });
    expect(headers).not.toHaveProperty('connection');
    expect(headers).not.toHaveProperty('x-secret');
    expect(headers).not.toHaveProperty('x-debug');
    expect(headers['x-kept']).toBe('3');
  });

  it('keeps Transfer-Encoding, even when Connection names it', () => {
    const headers = prepared({ connection: 'transfer-encoding', 'transfer-encoding': 'chunked' });
    expect(headers['transfer-encoding']).toBe('chunked');
  });

  it('keeps end-to-end headers untouched', () => {
    const endToEnd = { 'content-type': 'application/json', 'content-length': '12', authorization: 'Bearer t', cookie: 'a=1', accept: '*/*' };
    expect(prepared({ host: 'gw', ...endToEnd })).toMatchObject(endToEnd);
  });

  it('creates X-Forwarded-For from the socket address', () => {
    expect(prepared({}, '1.2.3.4')['x-forwarded-for']).toBe('1.2.3.4');
  });

  it('appends the socket address to an existing X-Forwarded-For', () => {
    expect(prepared({ 'x-forwarded-for': 'a' }, '1.2.3.4')['x-forwarded-for']).toBe('a, 1.2.3.4');
    expect(prepared({ 'x-forwarded-for': 'a, b' }, '1.2.3.4')['x-forwarded-for']).toBe('a, b, 1.2.3.4');
  });

  it('appends to X-Forwarded-For whether or not the proxy is trusted', () => {
    expect(prepared({ 'x-forwarded-for': 'a' }, '1.2.3.4', true)['x-forwarded-for']).toBe('a, 1.2.3.4');
  });

  it('writes an IPv4-mapped IPv6 client as plain IPv4', () => {
    expect(prepared({ 'x-forwarded-for': 'a' }, '::ffff:1.2.3.4')['x-forwarded-for']).toBe('a, 1.2.3.4');
  });

  it('writes an IPv6 client as it is', () => {
    expect(prepared({}, '2001:db8::1')['x-forwarded-for']).toBe('2001:db8::1');
  });

  it('sets X-Forwarded-Proto to http and X-Forwarded-Host to Host', () => {
    const headers = prepared({ host: 'api.example:3000' });
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('api.example:3000');
  });

  it('overwrites client-sent X-Forwarded-Proto and X-Forwarded-Host when the proxy is not trusted', () => {
    const headers = prepared({ host: 'gw', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }, '1.2.3.4', false);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('gw');
  });

  it('drops a client-sent X-Forwarded-Host when there is no Host to replace it with', () => {
    expect(prepared({ 'x-forwarded-host': 'evil.example' }, '1.2.3.4', false)).not.toHaveProperty('x-forwarded-host');
  });

  it('keeps X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy', () => {
    const headers = prepared({ host: 'gw', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' }, '1.2.3.4', true);
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('public.example');
  });

  it('sets X-Forwarded-Proto and X-Forwarded-Host when a trusted proxy did not', () => {
    const headers = prepared({ host: 'gw' }, '1.2.3.4', true);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('gw');
  });

  it('rewrites the headers object in place', () => {
    const headers: IncomingHttpHeaders = { host: 'gw', connection: 'close' };
    prepareRequestHeaders(headers, '1.2.3.4', false);
    expect(headers).toEqual({ host: 'gw', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw' });
  });
});

describe(responseHeaders.name, () => {
  it.each([
    'Connection',
    'connection',
    'Keep-Alive',
    'KEEP-ALIVE',
    'Proxy-Connection',
    'Proxy-Authenticate',
    'Proxy-Authorization',
    'TE',
    'Trailer',
    'Transfer-Encoding',
    'Upgrade',
  ])('drops the hop-by-hop header %s', (name) => {
    expect(responseHeaders([name, 'x', 'Content-Type', 'text/plain'])).toEqual(['Content-Type', 'text/plain']);
  });

  it('drops the headers a Connection header names, whatever their case', () => {
    const raw = ['CONNECTION', 'close, X-Internal', 'x-internal', 'secret', 'Close', 'y', 'X-Public', 'ok'];
    expect(responseHeaders(raw)).toEqual(['X-Public', 'ok']);
  });

  it('honours every Connection header when there are several', () => {
    const raw = ['Connection', 'X-A', 'Connection', 'X-B', 'X-A', '1', 'X-B', '2', 'X-C', '3'];
    expect(responseHeaders(raw)).toEqual(['X-C', '3']);
  });

  it('keeps repeated Set-Cookie headers as separate pairs', () => {
    const raw = ['Set-Cookie', 'a=1', 'Content-Type', 'text/html', 'Set-Cookie', 'b=2'];
    expect(responseHeaders(raw)).toEqual(['Set-Cookie', 'a=1', 'Content-Type', 'text/html', 'Set-Cookie', 'b=2']);
  });

  it("keeps the backend's spelling of header names", () => {
    const raw = ['X-CUSTOM-Thing', 'v', 'content-LENGTH', '3'];
    expect(responseHeaders(raw)).toEqual(['X-CUSTOM-Thing', 'v', 'content-LENGTH', '3']);
  });

  it('returns a new flat list and leaves its input alone', () => {
    const raw = ['Connection', 'close', 'Date', 'today'];
    const kept = responseHeaders(raw);
    expect(kept).toEqual(['Date', 'today']);
    expect(raw).toEqual(['Connection', 'close', 'Date', 'today']);
  });

  it('returns an empty list for no headers', () => {
    expect(responseHeaders([])).toEqual([]);
  });
});

describe(responseHeadersFromBuffers.name, () => {
  it('reads undici\'s raw buffers as latin1 and drops hop-by-hop headers and those named in Connection', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Private', 'Keep-Alive', 'timeout=5', 'X-Private', 'hop', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Latin', 'caf\u00e9'];
    expect(responseHeadersFromBuffers(raw.map((text) => Buffer.from(text, 'latin1')))).toEqual(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Latin', 'caf\u00e9']);
  });
});
