import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { parseCookie } from 'cookie';
import type { BalanceHints } from '../balancer/balancer.service.js';
import type { ServicePool } from '../balancer/service-pool.js';
import type { HashOn } from '../config/routing-config.js';
import { ClientAddressResolver } from './edge/client-address.js';

/**
 * Reads from a request what its service balances on: the consistent-hash key (`hashOn`) and the
 * sticky cookie. A service that uses neither costs two property reads.
 */
@Injectable()
export class BalanceHintReader {
  constructor(private readonly clients: ClientAddressResolver) {}

  /** Both hints at once (a WebSocket upgrade, which has no Exchange to hold them). */
  hintsFor(service: ServicePool, req: IncomingMessage): BalanceHints {
    return { hashKey: this.hashKeyOf(service, req), stickyTo: this.stickyValueOf(service, req) };
  }

  /** The key consistent hashing hashes; undefined (round robin) when the request lacks it or it is empty. */
  hashKeyOf(service: ServicePool, req: IncomingMessage): string | undefined {
    const { hashOn } = service.settings;
    if (hashOn === undefined) return undefined;
    const key = this.keyOf(hashOn, req);
    // An empty key would send every request without one to a single backend.
    return key === '' ? undefined : key;
  }

  /** The value of the service's sticky cookie in the request, if both are there. */
  stickyValueOf(service: ServicePool, req: IncomingMessage): string | undefined {
    const { sticky } = service;
    if (sticky === undefined) return undefined;
    return cookieValue(req, sticky.name);
  }

  private keyOf(hashOn: HashOn, req: IncomingMessage): string | undefined {
    switch (hashOn.kind) {
      case 'header': {
        const value = req.headers[hashOn.name];
        return Array.isArray(value) ? value.join(', ') : value;
      }
      case 'cookie':
        return cookieValue(req, hashOn.name);
      case 'client-ip':
        // As the rate limiter and the access log see the client: behind --trust-proxy, the forwarded address.
        return this.clients.addressOf(req);
      case 'path': {
        // The client's path, without its query: /cart?item=1 and /cart?item=2 are one key.
        const url = req.url ?? '/';
        const query = url.indexOf('?');
        return query === -1 ? url : url.slice(0, query);
      }
      default:
        return unknownKind(hashOn);
    }
  }
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  return header === undefined ? undefined : parseCookie(header)[name];
}

function unknownKind(hashOn: never): never {
  throw new Error(`unknown hashOn ${JSON.stringify(hashOn)}`);
}
