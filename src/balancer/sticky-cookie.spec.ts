import { parseCookie, parseSetCookie } from 'cookie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamBreaker } from '../breaker/upstream-breaker.js';
import type { StickySettings } from '../config/routing-config.js';
import { StickyCookie } from './sticky-cookie.js';
import { Upstream } from './upstream.js';

const DEFAULTS: StickySettings = { cookie: 'srv', secure: false, httpOnly: true, sameSite: 'Lax' };

describe(StickyCookie.name, () => {
  let a: Upstream;
  let b: Upstream;

  function upstream(url: string): Upstream {
    return new Upstream(url, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
  }

  beforeEach(() => {
    a = upstream('http://10.0.0.7:8080');
    b = upstream('http://10.0.0.8:8080');
  });

  afterEach(() => {
    a.close();
    b.close();
  });

  it('round-trips: the cookie set for a backend, sent back, names that backend', () => {
    const sticky = new StickyCookie(DEFAULTS);
    for (const backend of [a, b]) {
      const { name, value } = parseSetCookie(sticky.setCookieFor(backend));
      const sentBack = parseCookie(`other=1; ${name}=${value!}`)[DEFAULTS.cookie]!;
      expect(sticky.held([a, b], sentBack)).toBe(backend);
    }
  });

  it('names nothing when the backend is not a candidate, or the value names no backend', () => {
    const sticky = new StickyCookie(DEFAULTS);
    expect(sticky.held([b], a.affinityId)).toBeUndefined();
    expect(sticky.held([a, b], 'garbage')).toBeUndefined();
  });

  it('gives a backend the same value in every gateway and after a restart: a hash of its URL, not its address', () => {
    const again = upstream('http://10.0.0.7:8080');
    try {
      expect(again.affinityId).toBe(a.affinityId);
      expect(a.affinityId).not.toBe(b.affinityId);
      expect(a.affinityId).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      again.close();
    }
  });

  it.each([
    { settings: DEFAULTS, header: (value: string) => `srv=${value}; Path=/; HttpOnly; SameSite=Lax` },
    { settings: { cookie: 'sid', secure: true, httpOnly: false, sameSite: 'Strict' } as const, header: (value: string) => `sid=${value}; Path=/; Secure; SameSite=Strict` },
    { settings: { cookie: 'sid', secure: true, httpOnly: true, sameSite: 'None' } as const, header: (value: string) => `sid=${value}; Path=/; HttpOnly; Secure; SameSite=None` },
  ])('writes $settings as a session cookie for the whole site', ({ settings, header }) => {
    expect(new StickyCookie(settings).setCookieFor(a)).toBe(header(a.affinityId));
  });
});
