import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { TrustedPeers } from './trusted-peers.js';

/** The IPv6 prefix the rate limiter groups a client by (as @nestjs/throttler does): a host owns a /64. */
const IPV6_CLIENT_PREFIX = 64;

/** An address in one canonical spelling: IPv4-mapped IPv6 as IPv4, IPv6 lower-case and compressed. */
function canonicalAddress(address: string): string {
  const canonical = normalizeIp(address, 128);
  return canonical.endsWith('/128') ? canonical.slice(0, -4) : canonical;
}

/**
 * Who sent a request, derived once for everyone who asks (the rate limiter, the access log): the
 * socket's address, or with --trust-proxy the `X-Forwarded-For` entry the trusted proxies vouch for
 * (never one the client wrote itself; see TrustedPeers), in one canonical spelling. The rate limiter then counts
 * an IPv6 client by its /64, as @nestjs/throttler does, so a host cannot dodge its limit by
 * rotating through its own subnet.
 */
@Injectable()
export class ClientAddressResolver {
  private readonly peers: TrustedPeers;
  /** A connection's address never changes, so it is worked out once per socket, not per request. */
  private readonly bySocket = new WeakMap<Socket, { address: string; key: string }>();

  constructor(@Inject(GATEWAY_CONFIG) config: Pick<GatewayConfig, 'trustProxy'>) {
    this.peers = new TrustedPeers(config.trustProxy);
  }

  /** The client's address, as the access log shows it. */
  addressOf(req: IncomingMessage): string {
    const forwarded = this.forwardedClient(req);
    return forwarded === undefined ? this.ofSocket(req.socket).address : canonicalAddress(forwarded);
  }

  /** What the rate limiter counts the request against: the address, an IPv6 one by its /64. */
  rateLimitKeyOf(req: IncomingMessage): string {
    const forwarded = this.forwardedClient(req);
    return forwarded === undefined ? this.ofSocket(req.socket).key : normalizeIp(forwarded, IPV6_CLIENT_PREFIX);
  }

  private forwardedClient(req: IncomingMessage): string | undefined {
    return this.peers.clientFrom(req.headers['x-forwarded-for'] as string | undefined, req.socket.remoteAddress ?? '');
  }

  private ofSocket(socket: Socket): { address: string; key: string } {
    let known = this.bySocket.get(socket);
    if (known === undefined) {
      const remote = socket.remoteAddress ?? 'unknown';
      known = { address: canonicalAddress(remote), key: normalizeIp(remote, IPV6_CLIENT_PREFIX) };
      this.bySocket.set(socket, known);
    }
    return known;
  }
}
