import type { OutgoingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { SecurityHeaders } from './edge/security-headers.js';
import type { Upstream } from '../balancer/upstream.js';
import type { Exchange, KeptResponse } from './exchange.js';
import { identityOf } from './request-identity.js';
import type { UpstreamResponse } from './transport/upstream-transport.js';

/**
 * Writes a backend's answer to the client as the backend sent it (status, reason, headers, body),
 * plus the request id the gateway adds to every proxied response and the security headers the
 * backend did not set.
 */
@Injectable()
export class ResponseWriter {
  constructor(private readonly security: SecurityHeaders) {}

  /** Streams a response that is arriving now. */
  stream(exchange: Exchange, response: UpstreamResponse): void {
    if (exchange.res.destroyed) {
      response.body.destroy();
      return;
    }
    exchange.res.writeHead(response.status, response.statusMessage, this.withOurHeaders(exchange, response.headers, exchange.upstream));
    response.body.pipeTo(exchange.res);
  }

  /** Writes an answer that was kept in full while a retry was tried. */
  kept(exchange: Exchange, kept: KeptResponse): void {
    if (exchange.res.destroyed) return;
    exchange.res.writeHead(kept.status, kept.statusMessage, this.withOurHeaders(exchange, kept.headers, exchange.keptFrom));
    exchange.res.end(kept.body);
  }

  /** @param from the backend that gave the answer: a sticky service's cookie names it. */
  private withOurHeaders<T extends string[] | OutgoingHttpHeaders>(exchange: Exchange, headers: T, from: Upstream | undefined): T {
    // With the other headers, not by setHeader, which would put every response on writeHead's slow path.
    this.security.addMissing(headers);
    const sticky = exchange.service?.sticky;
    if (sticky !== undefined && from !== undefined && from.affinityId !== exchange.stickyTo) addSetCookie(headers, sticky.setCookieFor(from));
    const requestId = identityOf(exchange.req).requestId;
    if (requestId === undefined) return headers;
    if (Array.isArray(headers)) headers.push('x-request-id', requestId);
    else headers['x-request-id'] = requestId;
    return headers;
  }
}

/** Adds a Set-Cookie to the backend's own (which stay as they are: Set-Cookie is never folded into one line). */
function addSetCookie(headers: string[] | OutgoingHttpHeaders, cookie: string): void {
  if (Array.isArray(headers)) {
    headers.push('set-cookie', cookie);
    return;
  }
  const existing = headers['set-cookie'];
  headers['set-cookie'] = existing === undefined ? cookie : [...(Array.isArray(existing) ? existing : [String(existing)]), cookie];
}
