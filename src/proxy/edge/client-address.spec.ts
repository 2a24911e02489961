import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../config/trusted-proxies.js';
import { ClientAddressResolver } from './client-address.js';

function request(forwardedFor: string | undefined, peer = '10.0.0.1'): IncomingMessage {
  const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  return { headers, socket: { remoteAddress: peer } } as unknown as IncomingMessage;
}

describe(ClientAddressResolver.name, () => {
  it('keeps the client it read before the gateway appended its peer to X-Forwarded-For', () => {
    const resolver = new ClientAddressResolver({ trustProxy: parseTrustedProxies('true') });
    const req = request('203.0.113.1');
    resolver.readForwardedClient(req);
    req.headers['x-forwarded-for'] = '203.0.113.1, 10.0.0.1'; // what forwarding does to the headers
    expect(resolver.addressOf(req)).toBe('203.0.113.1');
  });

  it('is the socket address without --trust-proxy, whatever X-Forwarded-For says', () => {
    const resolver = new ClientAddressResolver({ trustProxy: parseTrustedProxies('false') });
    expect(resolver.addressOf(request('203.0.113.1', '::ffff:10.9.9.9'))).toBe('10.9.9.9');
  });

  it('writes a forwarded IPv4-mapped or long-form IPv6 client in one spelling', () => {
    const resolver = new ClientAddressResolver({ trustProxy: parseTrustedProxies('true') });
    expect(resolver.addressOf(request('::ffff:10.1.2.3'))).toBe('10.1.2.3');
    expect(resolver.addressOf(request('2001:DB8:0:0:0:0:0:1'))).toBe('2001:db8::1');
  });
});
