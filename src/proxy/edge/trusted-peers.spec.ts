import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../config/trusted-proxies.js';
import { TrustedPeers } from './trusted-peers.js';

const peersFor = (flag: string) => new TrustedPeers(parseTrustedProxies(flag));

describe(TrustedPeers.name, () => {
  it('believes nobody with --trust-proxy=false', () => {
    const peers = peersFor('false');
    expect(peers.peerIsTrusted('10.0.0.1')).toBe(false);
    expect(peers.clientFrom('203.0.113.1', '10.0.0.1')).toBeUndefined();
  });

  it('takes the right-most entry with one trusted hop, the one before it with two', () => {
    expect(peersFor('true').clientFrom('6.6.6.6, 203.0.113.1', '10.0.0.1')).toBe('203.0.113.1');
    expect(peersFor('2').clientFrom('6.6.6.6, 203.0.113.1, 10.0.0.9', '10.0.0.1')).toBe('203.0.113.1');
  });

  it('takes the furthest entry when there are fewer than the trusted hops', () => {
    expect(peersFor('3').clientFrom('203.0.113.1', '10.0.0.1')).toBe('203.0.113.1');
  });

  it('falls back to the socket when the chosen entry is not an address', () => {
    expect(peersFor('1').clientFrom('203.0.113.1, unknown', '10.0.0.1')).toBeUndefined();
  });

  it('with trusted CIDRs, walks from the socket leftwards to the first untrusted address', () => {
    const peers = peersFor('10.0.0.0/8,fd00::/8');
    expect(peers.clientFrom('6.6.6.6, 203.0.113.1, 10.2.2.2, fd00::1', '10.0.0.1')).toBe('203.0.113.1');
    expect(peers.clientFrom('10.3.3.3, 10.2.2.2', '::ffff:10.0.0.1')).toBe('10.3.3.3');
  });

  it('with trusted CIDRs, ignores X-Forwarded-For from a peer outside them', () => {
    const peers = peersFor('10.0.0.0/8');
    expect(peers.peerIsTrusted('192.0.2.1')).toBe(false);
    expect(peers.clientFrom('203.0.113.1', '192.0.2.1')).toBeUndefined();
    expect(peers.peerIsTrusted('::ffff:10.1.1.1')).toBe(true);
  });
});

describe(parseTrustedProxies.name, () => {
  it.each(['maybe', '10.0.0.0/33', '10.0.0.1,', 'fd00::/129', '-1', 'localhost'])('refuses %j', (text) => {
    expect(() => parseTrustedProxies(text)).toThrow(/expected false, true, a number of trusted proxy hops/);
  });
});
