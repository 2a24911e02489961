import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { firstStatus, sendRaw } from './support/raw-socket.js';

/** Statuses of every response in raw bytes, in order. */
function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}

/** A request head (lines joined by CRLF, ended by the blank line), then `body` as is. */
function request(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A POST head with the given framing headers, on a connection the client closes after it. */
function post(path: string, framing: readonly string[], body: string): string {
  return request([`POST ${path} HTTP/1.1`, 'Host: gw', ...framing, 'Connection: close'], body);
}

/** A GET head with the given extra lines (header lines, or anything a line can hold). */
function get(path: string, ...lines: string[]): string {
  return request([`GET ${path} HTTP/1.1`, 'Host: gw', ...lines, 'Connection: close']);
}

/** The bytes of a chunked body carrying "hello". */
const HELLO_CHUNKED = '5\r\nhello\r\n0\r\n\r\n';

/**
 * Malformed and hostile HTTP/1.x requests over raw sockets, each checked for what the client got and
 * for what reached the backend. The expectations are a strict reverse proxy's (NGINX's): 400 for
 * broken framing or syntax (RFC 9112 §§2-7), 405 for methods not proxied, 505 for other HTTP
 * versions, 431 and 413 past the limits; and a request refused is never forwarded, in part or whole.
 */
describe.each(ENGINES)('malformed and hostile requests (raw sockets, %s)', (engine) => {
  let backend: TestBackend;
  /** `--backends=<backend>`: paths arrive as sent. */
  let plain: TestGateway;
  /** `--backends=<backend>/api`: a path that climbs out of the prefix would reach what it must not. */
  let prefixed: TestGateway;

  beforeAll(async () => {
    backend = await startBackend({
      // A slightly slow answer: a request pipelined behind one forwarded is read while its answer is pending.
      handler: (req, res, body) => {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`${req.method} ${req.url} ${body.length}`);
        }, 20);
      },
    });
    plain = await startGateway([`--backends=${backend.url}`, `--proxy-engine=${engine}`]);
    prefixed = await startGateway([`--backends=${backend.url}/api`, `--proxy-engine=${engine}`]);
  });

  afterAll(async () => {
    await plain?.close();
    await prefixed?.close();
    await backend?.close();
  });

  /**
   * Sends the bytes in one write on a fresh connection; what the client got, the paths whose heads
   * reached the backend (aborted ones too) and the requests it received whole, as `METHOD url body`.
   */
  async function send(gateway: TestGateway, bytes: string) {
    const arrivalsBefore = backend.arrivals.length;
    const requestsBefore = backend.requests.length;
    // Every answer here comes within milliseconds: an idle half second means the gateway is hanging.
    const raw = await sendRaw(gateway.port, bytes, 500);
    // A request forwarded by mistake reaches the backend about when the answer reaches the client.
    await sleep(60);
    return {
      raw,
      status: firstStatus(raw),
      statuses: statuses(raw),
      arrived: backend.arrivals.slice(arrivalsBefore),
      received: backend.requests.slice(requestsBefore).map((request) => `${request.method} ${request.url} ${request.body.toString('latin1')}`),
      headers: backend.requests.slice(requestsBefore).map((request) => request.headers),
    };
  }

  describe('request smuggling: ambiguous or broken body framing', () => {
    it.each([
      ['Content-Length and Transfer-Encoding together (CL.TE)', post('/smuggle', ['Content-Length: 6', 'Transfer-Encoding: chunked'], '0\r\n\r\nG')],
      ['Transfer-Encoding and Content-Length together (TE.CL)', post('/smuggle', ['Transfer-Encoding: chunked', 'Content-Length: 3'], '8\r\nSMUGGLED\r\n0\r\n\r\n')],
      ['two Content-Length headers with different values', post('/smuggle', ['Content-Length: 5', 'Content-Length: 6'], 'hello!')],
      ['a Content-Length list with different values', post('/smuggle', ['Content-Length: 5, 6'], 'hello!')],
      ['a Content-Length with a plus sign', post('/smuggle', ['Content-Length: +5'], 'hello')],
      ['a negative Content-Length', post('/smuggle', ['Content-Length: -5'], 'hello')],
      ['a Content-Length with a space inside', post('/smuggle', ['Content-Length: 1 0'], 'helloworld')],
      ['a Content-Length in hex', post('/smuggle', ['Content-Length: 0x5'], 'hello')],
      ['a Content-Length list of two equal values', post('/smuggle', ['Content-Length: 5, 5'], 'hello')],
      ['a Content-Length past 2^64', post('/smuggle', ['Content-Length: 18446744073709551621'], 'hello')],
      ['Transfer-Encoding: xchunked', post('/smuggle', ['Transfer-Encoding: xchunked'], HELLO_CHUNKED)],
      ['Transfer-Encoding: chunked, identity (chunked not last)', post('/smuggle', ['Transfer-Encoding: chunked, identity'], HELLO_CHUNKED)],
      ['Transfer-Encoding: gzip (no chunked)', post('/smuggle', ['Transfer-Encoding: gzip'], HELLO_CHUNKED)],
      ['Transfer-Encoding with a vertical tab before chunked', post('/smuggle', ['Transfer-Encoding:\x0bchunked'], HELLO_CHUNKED)],
      ['Transfer-Encoding with a space before its colon', post('/smuggle', ['Transfer-Encoding : chunked'], HELLO_CHUNKED)],
      ['Transfer-Encoding folded onto a second line', post('/smuggle', ['Transfer-Encoding:', ' chunked'], HELLO_CHUNKED)],
      ['Transfer-Encoding on two lines: chunked, then identity', post('/smuggle', ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], HELLO_CHUNKED)],
      ['Transfer-Encoding on two lines: chunked twice', post('/smuggle', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], HELLO_CHUNKED)],
      ['a chunk size that is not hex', post('/smuggle', ['Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n')],
      ['a negative chunk size', post('/smuggle', ['Transfer-Encoding: chunked'], '-5\r\nhello\r\n0\r\n\r\n')],
      ['a chunk size that overflows 64 bits (0xFFFFFFFFFFFFFFFFF)', post('/smuggle', ['Transfer-Encoding: chunked'], 'FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n')],
      ['a chunk size with a 0x prefix', post('/smuggle', ['Transfer-Encoding: chunked'], '0x5\r\nhello\r\n0\r\n\r\n')],
      ['a chunk not followed by CRLF', post('/smuggle', ['Transfer-Encoding: chunked'], '5\r\nhelloXX0\r\n\r\n')],
      ['a chunk longer than its size', post('/smuggle', ['Transfer-Encoding: chunked'], '3\r\nhello\r\n0\r\n\r\n')],
      ['a chunk extension with a control character', post('/smuggle', ['Transfer-Encoding: chunked'], '5;a\x01b\r\nhello\r\n0\r\n\r\n')],
      ['a chunk extension with an unterminated quoted string', post('/smuggle', ['Transfer-Encoding: chunked'], '5;a="b\r\nhello\r\n0\r\n\r\n')],
      // The same faults on a connection the client keeps alive (no Connection: close).
      ['Transfer-Encoding: xchunked, keep-alive', request(['POST /smuggle HTTP/1.1', 'Host: gw', 'Transfer-Encoding: xchunked'], HELLO_CHUNKED)],
      ['a chunk size that is not hex, keep-alive', request(['POST /smuggle HTTP/1.1', 'Host: gw', 'Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n')],
    ])('answers 400 to %s and forwards nothing', async (_name, bytes) => {
      const { status, raw, arrived } = await send(plain, bytes);
      expect(status).toBe(400);
      expect(raw.toLowerCase()).toContain('connection: close');
      expect(arrived).toEqual([]);
    });
  });

  describe('header syntax', () => {
    it.each([
      ['obs-fold: a header line starting with a space', get('/fold', 'X-Folded: a', ' b')],
      ['obs-fold: a header line starting with a tab', get('/fold', 'X-Folded: a', '\tb')],
      ['whitespace before the first header line', request(['GET /fold HTTP/1.1', ' Host: gw', 'Connection: close'])],
      ['a space between Host and its colon ("Host : gw")', request(['GET /name HTTP/1.1', 'Host : gw', 'Connection: close'])],
      ['a space inside a header name', get('/name', 'X Forwarded: a')],
      ['a line starting with a colon (empty name)', get('/name', ': value')],
      ['a header line without a colon', get('/name', 'NoColonHere')],
      ['a header name with parentheses', get('/name', 'X-Bad(name): v')],
      ['a header name with a double quote', get('/name', 'X-Bad"name: v')],
      ['a header name with a non-ASCII byte', get('/name', 'X-Caf\xe9: v')],
      ['a header name with DEL', get('/name', 'X-B\x7fad: v')],
      ['a NUL in a header value', get('/value', 'X-Value: a\x00b')],
      ['a bare CR in a header value', get('/value', 'X-Value: a\rb')],
      ['a bare LF in a header value', get('/value', 'X-Value: a\nX-Other: b')],
      ['a control character in a header value', get('/value', 'X-Value: a\x01b')],
    ])('answers 400 to %s and forwards nothing', async (_name, bytes) => {
      const { status, raw, arrived } = await send(plain, bytes);
      expect(status).toBe(400);
      expect(raw.toLowerCase()).toContain('connection: close');
      expect(arrived).toEqual([]);
    });
  });

  describe('request line and target', () => {
    it.each([
      ['a tab after the method', 'GET\t/line HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a space after the version', 'GET /line HTTP/1.1 \r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['bare LF line endings', 'GET /line HTTP/1.1\nHost: gw\nConnection: close\n\n'],
      ['a lowercase method', 'get /line HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['an unknown method', 'FOO /line HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a lowercase version', 'GET /line http/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['an absolute-form target', 'GET http://evil.example/line HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['an authority-form target on GET', 'GET evil.example:80 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['an asterisk-form target on GET', 'GET * HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a space inside the target', 'GET /a b HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a tab inside the target', 'GET /a\tb HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a control character inside the target', 'GET /a\x01b HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a NUL inside the target', 'GET /a\x00b HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a DEL inside the target', 'GET /a\x7fb HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a non-ASCII byte inside the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
      ['a fragment in the target', 'GET /page#frag HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'],
    ])('answers 400 to %s and forwards nothing', async (_name, bytes) => {
      const { status, arrived } = await send(plain, bytes);
      expect(status).toBe(400);
      expect(arrived).toEqual([]);
    });

    // The last two hide the dot segment behind a fragment: a backend that drops the fragment resolves it.
    it.each(['/../secret', '/%2e%2e/secret', '/%2E%2e/x', '/a/../../b', '/..#x', '/%2e%2e#x'])('answers 400 to %s, which climbs out of the backend prefix, and forwards nothing', async (target) => {
      const { status, raw, arrived } = await send(prefixed, get(target));
      expect(status).toBe(400);
      expect(raw).toContain('"statusCode":400');
      expect(arrived).toEqual([]);
    });
  });

  describe('Host', () => {
    it.each([
      ['two Host headers', request(['GET /host HTTP/1.1', 'Host: gw.example', 'Host: evil.example', 'Connection: close'])],
      ['a Host with a path', request(['GET /host HTTP/1.1', 'Host: evil.example/x', 'Connection: close'])],
      ['a Host with user info', request(['GET /host HTTP/1.1', 'Host: user@gw.example', 'Connection: close'])],
      ['a Host with a bad port', request(['GET /host HTTP/1.1', 'Host: gw.example:80x', 'Connection: close'])],
      ['an empty Host', request(['GET /host HTTP/1.1', 'Host:', 'Connection: close'])],
    ])('answers 400 to %s and forwards nothing', async (_name, bytes) => {
      const { status, raw, arrived } = await send(plain, bytes);
      expect(status).toBe(400);
      expect(raw.toLowerCase()).toContain('connection: close');
      expect(arrived).toEqual([]);
    });
  });

  describe('versions, methods and limits', () => {
    it.each([
      ['an HTTP/2.0 request line', 505, get('/v').replace('HTTP/1.1', 'HTTP/2.0')],
      ['an HTTP/3.0 request line', 505, get('/v').replace('HTTP/1.1', 'HTTP/3.0')],
      ['an HTTP/0.9 request line', 505, 'GET /v\r\n'],
      ['HTTP/1.0 with Transfer-Encoding', 400, 'POST /v HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n' + HELLO_CHUNKED],
      ['CONNECT', 405, 'CONNECT gw:443 HTTP/1.1\r\nHost: gw:443\r\nConnection: close\r\n\r\n'],
      ['PROPFIND (not in the default --allowed-methods)', 405, request(['PROPFIND /v HTTP/1.1', 'Host: gw', 'Depth: 1', 'Connection: close'])],
      ['a 20 KiB head (over the default 16 KiB)', 431, get('/v', `X-Big: ${'b'.repeat(20 * 1024)}`)],
      ['a declared Content-Length of 32 MiB, sent without its body', 413, request(['POST /v HTTP/1.1', 'Host: gw', 'Content-Length: 33554432'])],
    ])('answers %s with %i and forwards nothing', async (_name, expected, bytes) => {
      const { status, arrived } = await send(plain, bytes);
      expect(status).toBe(expected);
      expect(arrived).toEqual([]);
    });

    it('answers TRACE with 405 and Allow, and forwards nothing', async () => {
      const { status, raw, arrived } = await send(plain, request(['TRACE /v HTTP/1.1', 'Host: gw', 'Connection: close']));
      expect(status).toBe(405);
      expect(raw.toLowerCase()).toMatch(/\r\nallow: get, head, post, put, patch, delete, options\r\n/);
      expect(arrived).toEqual([]);
    });
  });

  describe('accepted, and forwarded normalised', () => {
    it.each([
      ['two spaces after the method (RFC 9112 §3: MAY parse on whitespace, as NGINX does)', 'plain', get('/ok').replace('GET ', 'GET  '), 'GET /ok '],
      ['a Content-Length with leading zeros', 'plain', post('/ok', ['Content-Length: 005'], 'hello'), 'POST /ok hello'],
      ['a Content-Length with whitespace around it', 'plain', post('/ok', ['Content-Length:   5  '], 'hello'), 'POST /ok hello'],
      ['Transfer-Encoding: chunked with trailing whitespace', 'plain', post('/ok', ['Transfer-Encoding: chunked  '], HELLO_CHUNKED), 'POST /ok hello'],
      ['Transfer-Encoding: ChUnKeD (case-insensitive)', 'plain', post('/ok', ['Transfer-Encoding: ChUnKeD'], HELLO_CHUNKED), 'POST /ok hello'],
      ['a chunk extension', 'plain', post('/ok', ['Transfer-Encoding: chunked'], '5;name=value\r\nhello\r\n0\r\n\r\n'), 'POST /ok hello'],
      ['a chunk size with leading zeros', 'plain', post('/ok', ['Transfer-Encoding: chunked'], '0005\r\nhello\r\n0\r\n\r\n'), 'POST /ok hello'],
      ['a path with dot segments that stays under the prefix', 'prefixed', get('/a/../b'), 'GET /api/b '],
      ['blank lines before the request line', 'plain', `\r\n\r\n${get('/ok')}`, 'GET /ok '],
    ] as const)('serves %s, and the backend gets exactly one clean request', async (_name, which, bytes, expected) => {
      const gateway = which === 'plain' ? plain : prefixed;
      const { status, received, arrived } = await send(gateway, bytes);
      expect(status).toBe(200);
      expect(received).toEqual([expected]);
      expect(arrived).toHaveLength(1);
    });

    it('forwards a value with whitespace around it trimmed', async () => {
      const { status, headers } = await send(plain, get('/ok', 'X-Padded: \t value \t'));
      expect(status).toBe(200);
      expect(headers.map((h) => h['x-padded'])).toEqual(['value']);
    });
  });

  describe('pipelined', () => {
    /** Valid requests, and what the backend receives of each: `METHOD url body`. */
    const first = { bytes: 'GET /first HTTP/1.1\r\nHost: gw\r\n\r\n', method: 'GET', body: '' };
    const firstPost = { bytes: 'POST /first HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello', method: 'POST', body: 'hello' };
    const after = 'GET /after HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n';

    it.each([
      ['a tab in the request line', first, 'GET\t/second HTTP/1.1\r\nHost: gw\r\n\r\n'],
      ['a NUL in a header value', first, 'GET /second HTTP/1.1\r\nHost: gw\r\nX-Value: a\x00b\r\n\r\n'],
      ['Content-Length and Transfer-Encoding together', firstPost, request(['POST /second HTTP/1.1', 'Host: gw', 'Content-Length: 6', 'Transfer-Encoding: chunked'], '0\r\n\r\nG')],
      ['a bad chunk size', firstPost, request(['POST /second HTTP/1.1', 'Host: gw', 'Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n')],
      ['two Host headers', first, request(['GET /second HTTP/1.1', 'Host: a.example', 'Host: b.example'])],
    ])('answers a valid request in full, then 400 to one behind it with %s', async (_name, valid, malformed) => {
      const { raw, statuses: got, arrived, received } = await send(plain, valid.bytes + malformed);
      expect(got).toEqual([200, 400]);
      // The whole answer to the valid request (the backend's echo) comes before the 400, never instead of it.
      const answer = raw.indexOf(`${valid.method} /first ${valid.body.length}`);
      expect(answer).toBeGreaterThan(0);
      expect(answer).toBeLessThan(raw.indexOf('HTTP/1.1 400'));
      expect(arrived).toEqual(['/first']);
      expect(received).toEqual([`${valid.method} /first ${valid.body}`]);
    });

    it.each([
      ['a header name with a space', get('/first', 'X Bad: v').replace('Connection: close\r\n', '')],
      ['an obs-folded header', 'GET /first HTTP/1.1\r\nHost: gw\r\nX-Folded: a\r\n b\r\n\r\n'],
      // The valid request behind is what each framing, read one way, takes for a body and, read the other, for a request.
      ['two Content-Length headers', request(['POST /first HTTP/1.1', 'Host: gw', 'Content-Length: 0', `Content-Length: ${after.length}`])],
      ['CL.TE with the request behind hidden in the body', request(['POST /first HTTP/1.1', 'Host: gw', `Content-Length: ${5 + after.length}`, 'Transfer-Encoding: chunked'], '0\r\n\r\n')],
      ['TE.CL with the request behind hidden in a chunk', request(['POST /first HTTP/1.1', 'Host: gw', 'Transfer-Encoding: chunked', 'Content-Length: 4'], `${after.length.toString(16)}\r\n`)],
      ['a chunk size that overflows', 'POST /first HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n'],
    ])('answers 400 to %s and forwards neither it nor the valid request behind it', async (_name, malformed) => {
      const { statuses: got, arrived } = await send(plain, malformed + after);
      expect(got).toEqual([400]);
      expect(arrived).toEqual([]);
    });
  });
});
