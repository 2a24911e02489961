import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serviceOver } from '../../test/support/service-pool.js';
import { parseGatewayConfig } from '../config/parse-gateway-config.js';
import { BalanceHintReader } from './balance-hints.js';
import { ClientAddressResolver } from './edge/client-address.js';

function request(url: string, headers: Record<string, string | string[]>, remoteAddress = '192.0.2.7'): IncomingMessage {
  return { url, headers, socket: { remoteAddress } as Socket } as unknown as IncomingMessage;
}

function readerFor(flags: string[] = []): BalanceHintReader {
  return new BalanceHintReader(new ClientAddressResolver(parseGatewayConfig(flags, {})));
}

describe(BalanceHintReader.name, () => {
  it.each([
    { hashOn: 'header:X-User-Id', req: request('/', { 'x-user-id': 'u-42' }), key: 'u-42' },
    { hashOn: 'header:X-User-Id', req: request('/', {}), key: undefined },
    { hashOn: 'header:X-User-Id', req: request('/', { 'x-user-id': '' }), key: undefined },
    { hashOn: 'cookie:session', req: request('/', { cookie: 'theme=dark; session=abc123' }), key: 'abc123' },
    { hashOn: 'cookie:session', req: request('/', { cookie: 'theme=dark' }), key: undefined },
    { hashOn: 'cookie:session', req: request('/', {}), key: undefined },
    { hashOn: 'client-ip', req: request('/', {}, '::ffff:192.0.2.7'), key: '192.0.2.7' },
    { hashOn: 'path', req: request('/cart/items?page=2', {}), key: '/cart/items' },
    { hashOn: 'path', req: request('/cart', {}), key: '/cart' },
  ])('hashes on $hashOn: $key', ({ hashOn, req, key }) => {
    const service = serviceOver([], ['--balance=consistent-hash', `--hash-on=${hashOn}`]);
    expect(readerFor().hashKeyOf(service, req)).toBe(key);
  });

  it('hashes on the client behind trusted proxies, as the rate limiter counts it', () => {
    const service = serviceOver([], ['--balance=consistent-hash', '--hash-on=client-ip']);
    const req = request('/', { 'x-forwarded-for': '203.0.113.9' }, '127.0.0.1');
    expect(readerFor(['--trust-proxy=127.0.0.1']).hashKeyOf(service, req)).toBe('203.0.113.9');
  });

  it('reads no key for a service that does not hash', () => {
    expect(readerFor().hashKeyOf(serviceOver([]), request('/x', { 'x-user-id': 'u-1' }))).toBeUndefined();
  });

  it.each([
    { cookie: 'srv=0123456789abcdef', value: '0123456789abcdef' },
    { cookie: 'a=1; srv=0123456789abcdef; b=2', value: '0123456789abcdef' },
    { cookie: 'server=0123456789abcdef', value: undefined },
  ])('reads the sticky cookie from $cookie', ({ cookie, value }) => {
    const service = serviceOver([], ['--sticky-cookie=srv']);
    expect(readerFor().stickyValueOf(service, request('/', { cookie }))).toBe(value);
  });

  it('reads no sticky value for a service without sticky sessions', () => {
    expect(readerFor().stickyValueOf(serviceOver([]), request('/', { cookie: 'srv=0123456789abcdef' }))).toBeUndefined();
  });
});
