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
  private readonly trustsProxies: boolean;
  /**
   * With --trust-proxy, each request's client as read before the gateway appends its own peer to
   * `X-Forwarded-For` (after that, the right-most entry would be the gateway's peer, not the client's).
   */
  private readonly forwardedBy = new WeakMap<IncomingMessage, string | null>();
  /** A connection's address never changes, so it is worked out once per socket, not per request. */
  private readonly bySocket = new WeakMap<Socket, { address: string; key: string }>();

  constructor(@Inject(GATEWAY_CONFIG) config: Pick<GatewayConfig, 'trustProxy'>) {
    this.peers = new TrustedPeers(config.trustProxy);
    this.trustsProxies = config.trustProxy.kind !== 'none';
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

  /** Reads the client from `X-Forwarded-For` now, while it is as the client's proxies sent it (the dispatcher calls this first). */
  readForwardedClient(req: IncomingMessage): void {
    if (this.trustsProxies && !this.forwardedBy.has(req)) this.forwardedBy.set(req, this.fromHeader(req) ?? null);
  }

  private forwardedClient(req: IncomingMessage): string | undefined {
    if (!this.trustsProxies) return undefined;
    const known = this.forwardedBy.get(req);
    if (known !== undefined) return known ?? undefined;
    const client = this.fromHeader(req);
    this.forwardedBy.set(req, client ?? null);
    return client;
  }

  private fromHeader(req: IncomingMessage): string | undefined {
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
