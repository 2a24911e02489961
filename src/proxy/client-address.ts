import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeIp } from '@nestjs/throttler';

/**
 * The rate limiter's idea of "one client": the socket's address, or with trustProxy the left-most
 * `X-Forwarded-For` entry (what Express's `trust proxy = true` yields as `req.ip`). Normalised as
 * @nestjs/throttler does: IPv4-mapped IPv6 becomes IPv4 and IPv6 is grouped by /64, so a host
 * cannot dodge its limit by rotating through its own subnet.
 */
export class ClientAddressResolver {
  /** A connection's address never changes, so it is normalised once per socket, not per request. */
  private readonly bySocket = new WeakMap<Socket, string>();

  constructor(private readonly trustProxy: boolean) {}

  resolve(req: IncomingMessage): string {
    if (this.trustProxy) {
      const forwarded = String(req.headers['x-forwarded-for'] ?? '');
      if (forwarded !== '') {
        const comma = forwarded.indexOf(',');
        const first = (comma === -1 ? forwarded : forwarded.slice(0, comma)).trim();
        if (first !== '') return normalizeIp(first);
      }
    }
    const socket = req.socket;
    let address = this.bySocket.get(socket);
    if (address === undefined) {
      address = normalizeIp(socket.remoteAddress ?? 'unknown');
      this.bySocket.set(socket, address);
    }
    return address;
  }
}
