import { stringifySetCookie } from 'cookie';
import type { StickySettings } from '../config/routing-config.js';
import type { Upstream } from './upstream.js';

/**
 * A service's sticky sessions (Traefik's sticky.cookie, HAProxy's `cookie … insert`): a request
 * whose cookie names one of the backends that can take it goes there; every answer from a backend
 * the cookie does not name sets it to that backend, so the client stays with whoever answered it,
 * after a retry or failover too. The value is the backend's affinityId, the same on every gateway.
 */
export class StickyCookie {
  /** The Set-Cookie header naming each backend, made once. */
  private readonly headers = new WeakMap<Upstream, string>();

  constructor(readonly settings: StickySettings) {}

  get name(): string {
    return this.settings.cookie;
  }

  /** The candidate a cookie value names, if it is one of them. */
  held(candidates: readonly Upstream[], value: string): Upstream | undefined {
    for (const upstream of candidates) if (upstream.affinityId === value) return upstream;
    return undefined;
  }

  /** The Set-Cookie header value that keeps a client on `upstream`: a session cookie for the whole site. */
  setCookieFor(upstream: Upstream): string {
    let header = this.headers.get(upstream);
    if (header === undefined) {
      const { cookie, secure, httpOnly, sameSite } = this.settings;
      header = stringifySetCookie({ name: cookie, value: upstream.affinityId, path: '/', secure, httpOnly, sameSite: sameSite.toLowerCase() as Lowercase<typeof sameSite> });
      this.headers.set(upstream, header);
    }
    return header;
  }
}
