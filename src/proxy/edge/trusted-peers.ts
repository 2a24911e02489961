import { BlockList, isIP } from 'node:net';
import type { TrustedProxies } from '../../config/trusted-proxies.js';
import { unmapIpv4 } from '../transport/forwarded-headers.js';

/**
 * --trust-proxy applied: whether a peer is a trusted proxy, and which `X-Forwarded-For` entry is
 * the client (see TrustedProxies). Entries the client wrote itself (left of the trusted proxies)
 * are never believed, so a client cannot choose its own rate-limit key.
 */
export class TrustedPeers {
  private readonly trusted: BlockList | undefined;

  constructor(private readonly trust: TrustedProxies) {
    if (trust.kind !== 'addresses') return;
    this.trusted = new BlockList();
    for (const cidr of trust.cidrs) {
      const [address, prefix] = cidr.split('/');
      const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(prefix), family);
    }
  }

  /** Whether `X-Forwarded-*` from this socket peer may be believed. */
  peerIsTrusted(socketAddress: string): boolean {
    switch (this.trust.kind) {
      case 'none':
        return false;
      case 'hops':
        return true;
      case 'addresses':
        return this.isTrusted(socketAddress);
      default: {
        const unknown: never = this.trust;
        throw new Error(`unknown trust ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The client's address from `X-Forwarded-For` (Node joins repeated headers with ', '), or undefined for the socket's own. */
  clientFrom(forwardedFor: string | undefined, socketAddress: string): string | undefined {
    if (this.trust.kind === 'none' || forwardedFor === undefined || forwardedFor === '') return undefined;
    const entries = forwardedFor.split(',');
    if (this.trust.kind === 'hops') {
      // Fewer entries than trusted hops: the furthest one there is, as Express's `trust proxy = N`.
      const entry = entries[Math.max(0, entries.length - this.trust.hops)].trim();
      return isIP(entry) === 0 ? undefined : entry;
    }
    if (!this.isTrusted(socketAddress)) return undefined;
    // From the right: the first address that is not a trusted proxy is the client.
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i].trim();
      if (isIP(entry) === 0) return undefined;
      if (!this.isTrusted(entry)) return entry;
    }
    return entries[0].trim();
  }

  private isTrusted(address: string): boolean {
    const plain = unmapIpv4(address);
    const family = isIP(plain);
    return family !== 0 && this.trusted!.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
