import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BalanceHints, BalancerService } from './balancer.service.js';
import { Upstream } from './upstream.js';
import { UpstreamBreaker } from '../breaker/upstream-breaker.js';
import { poolOf, serviceOver } from '../../test/support/service-pool.js';
import { failAttempts } from '../../test/support/breaker.js';

describe(BalancerService.name, () => {
  let a: Upstream;
  let b: Upstream;
  let c: Upstream;

  /** The balancer over one service of these upstreams, its picks made for that service. */
  type OneServiceBalancer = Pick<BalancerService, 'panicking' | 'onPanicRouted'> & { pick(exclude?: ReadonlySet<Upstream>): Upstream | undefined };

  function balancerOver(...upstreams: Upstream[]): OneServiceBalancer {
    const service = serviceOver(upstreams);
    const balancer = new BalancerService(poolOf(service));
    return {
      pick: (exclude) => balancer.pick(service, undefined, exclude),
      get panicking() {
        return balancer.panicking;
      },
      onPanicRouted: (listener) => balancer.onPanicRouted(listener),
    };
  }

  beforeEach(() => {
    a = new Upstream('http://127.0.0.1:1', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    b = new Upstream('http://127.0.0.1:2', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    c = new Upstream('http://127.0.0.1:3', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
  });

  afterEach(() => {
    vi.restoreAllMocks();
    for (const upstream of [a, b, c]) upstream.close();
  });

  it('alternates between upstreams', () => {
    const balancer = balancerOver(a, b);
    expect([balancer.pick(), balancer.pick(), balancer.pick(), balancer.pick()]).toEqual([a, b, a, b]);
  });

  it('skips an upstream that cannot take traffic', () => {
    vi.spyOn(b, 'isAvailable').mockReturnValue(false);
    const balancer = balancerOver(a, b, c);
    const picks = Array.from({ length: 6 }, () => balancer.pick());
    expect(picks).not.toContain(b);
    expect(new Set(picks)).toEqual(new Set([a, c]));
  });

  describe('when breakers and health checks have taken every upstream out (panic routing)', () => {
    it('still picks among them, in turn', () => {
      for (const upstream of [a, b]) upstream.healthy = false;
      const balancer = balancerOver(a, b);
      expect([balancer.pick(), balancer.pick(), balancer.pick()]).toEqual([a, b, a]);
      expect(balancer.panicking).toBe(true);
    });

    it('tells its listeners once per panic-routed pick', () => {
      for (const upstream of [a, b]) vi.spyOn(upstream, 'isAvailable').mockReturnValue(false);
      const balancer = balancerOver(a, b);
      const listener = vi.fn();
      balancer.onPanicRouted(listener);
      balancer.pick();
      balancer.pick();
      expect(listener).toHaveBeenCalledTimes(2);
    });

    it('is not panicking when the only thing keeping upstreams out is their concurrency cap', () => {
      for (const upstream of [a, b]) vi.spyOn(upstream, 'hasRoom', 'get').mockReturnValue(false);
      expect(balancerOver(a, b).panicking).toBe(false);
    });

    it('does not panic while one upstream is available', () => {
      vi.spyOn(a, 'isAvailable').mockReturnValue(false);
      const balancer = balancerOver(a, b);
      const listener = vi.fn();
      balancer.onPanicRouted(listener);
      expect([balancer.pick(), balancer.pick()]).toEqual([b, b]);
      expect(listener).not.toHaveBeenCalled();
      expect(balancer.panicking).toBe(false);
    });

    it('never sends past a concurrency cap: a pool full of capped upstreams picks nothing', () => {
      for (const upstream of [a, b]) {
        vi.spyOn(upstream, 'isAvailable').mockReturnValue(false);
        vi.spyOn(upstream, 'hasRoom', 'get').mockReturnValue(false);
      }
      expect(balancerOver(a, b).pick()).toBeUndefined();
    });

    it('skips the capped ones among the out-of-rotation upstreams', () => {
      for (const upstream of [a, b]) vi.spyOn(upstream, 'isAvailable').mockReturnValue(false);
      vi.spyOn(a, 'hasRoom', 'get').mockReturnValue(false);
      const balancer = balancerOver(a, b);
      expect([balancer.pick(), balancer.pick()]).toEqual([b, b]);
    });

    it('leaves out what this request has tried, unless nothing else is left', () => {
      for (const upstream of [a, b]) vi.spyOn(upstream, 'isAvailable').mockReturnValue(false);
      const balancer = balancerOver(a, b);
      expect([balancer.pick(new Set([a])), balancer.pick(new Set([a]))]).toEqual([b, b]);
      expect(balancer.pick(new Set([a, b]))).toBeUndefined();
    });
  });

  it('returns undefined when the pool is empty', () => {
    expect(balancerOver().pick()).toBeUndefined();
  });

  it('skips excluded upstreams', () => {
    const balancer = balancerOver(a, b, c);
    const exclude = new Set([a]);
    const picks = Array.from({ length: 6 }, () => balancer.pick(exclude));
    expect(picks).not.toContain(a);
    expect(new Set(picks)).toEqual(new Set([b, c]));
  });

  it('returns undefined when every available upstream is excluded', () => {
    vi.spyOn(c, 'isAvailable').mockReturnValue(false);
    expect(balancerOver(a, b, c).pick(new Set([a, b]))).toBeUndefined();
  });

  it('picks again from an upstream once it can take traffic again', () => {
    const available = vi.spyOn(a, 'isAvailable').mockReturnValue(false);
    const balancer = balancerOver(a, b);
    expect([balancer.pick(), balancer.pick()]).toEqual([b, b]);
    available.mockReturnValue(true);
    expect(new Set([balancer.pick(), balancer.pick()])).toEqual(new Set([a, b]));
  });

  describe.each([
    { strategy: 'round-robin', flags: [] },
    { strategy: 'least-request', flags: ['--balance=least-request'] },
    { strategy: 'consistent-hash', flags: ['--balance=consistent-hash', '--hash-on=path'] },
  ])('with $strategy', ({ flags }) => {
    /** Picks for requests with these hints from one service of a, b, c with `flags`. */
    function picker(extraFlags: string[] = []) {
      const service = serviceOver([a, b, c], [...flags, ...extraFlags]);
      const balancer = new BalancerService(poolOf(service));
      return (hints: BalanceHints, exclude?: ReadonlySet<Upstream>) => balancer.pick(service, hints, exclude);
    }
    const keys = Array.from({ length: 30 }, (_, i) => ({ hashKey: `/users/${i}`, stickyTo: undefined }));

    it('chooses among the available upstreams only', () => {
      vi.spyOn(b, 'isAvailable').mockReturnValue(false);
      const pick = picker();
      const picks = keys.map((hints) => pick(hints));
      expect(picks).not.toContain(b);
      expect(picks).not.toContain(undefined);
    });

    it('leaves out what the request has tried', () => {
      const pick = picker();
      expect(keys.map((hints) => pick(hints, new Set([a, c])))).toEqual(keys.map(() => b));
    });

    it('routes past breakers and health checks when they have taken every upstream out', () => {
      for (const upstream of [a, b, c]) upstream.healthy = false;
      const pick = picker();
      expect(keys.map((hints) => pick(hints)).every((picked) => picked !== undefined)).toBe(true);
    });

    it('sends a request whose sticky cookie names an available upstream there', () => {
      const pick = picker(['--sticky-cookie=srv']);
      expect(keys.map(({ hashKey }) => pick({ hashKey, stickyTo: c.affinityId }))).toEqual(keys.map(() => c));
    });

    it('sends a request whose sticky upstream cannot take it (or was tried) elsewhere', () => {
      const pick = picker(['--sticky-cookie=srv']);
      vi.spyOn(c, 'isAvailable').mockReturnValue(false);
      expect(keys.map(({ hashKey }) => pick({ hashKey, stickyTo: c.affinityId }))).not.toContain(c);
      expect(keys.map(({ hashKey }) => pick({ hashKey, stickyTo: b.affinityId }, new Set([b])))).not.toContain(b);
    });

    it('ignores a sticky cookie when the service has no sticky sessions', () => {
      const pick = picker();
      const picks = keys.map(({ hashKey }) => pick({ hashKey, stickyTo: c.affinityId }));
      expect(new Set(picks).size).toBeGreaterThan(1);
    });
  });

  describe('with real circuit breakers', () => {
    /** Picks an upstream and starts the attempt at it, as ProxyMiddleware does for every request. */
    function send(balancer: OneServiceBalancer): Upstream | undefined {
      const upstream = balancer.pick();
      upstream?.breaker.begin();
      return upstream;
    }

    /** Five consecutive failures open an upstream's breaker (failures: 5). */
    const open = (upstream: Upstream) => failAttempts(upstream.breaker, 5);

    beforeEach(() => {
      vi.useFakeTimers();
      vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    });

    afterEach(() => {
      vi.useRealTimers();
    });

    it('sends to an open breaker when it is the only upstream, without counting that against or for it', async () => {
      const balancer = balancerOver(a);
      await open(a);
      const picks = Array.from({ length: 3 }, () => send(balancer));
      expect(picks).toEqual([a, a, a]);
      expect(a.breaker.state).toBe('open');
    });

    it('picks only the other upstream while one breaker is open', async () => {
      const balancer = balancerOver(a, b);
      await open(a);
      expect(a.breaker.state).toBe('open');
      expect(Array.from({ length: 6 }, () => balancer.pick())).toEqual([b, b, b, b, b, b]);
    });

    it('keeps an open upstream out until the full cool-down has passed', async () => {
      const balancer = balancerOver(a, b);
      await open(a);
      vi.advanceTimersByTime(9_999);
      expect(Array.from({ length: 6 }, () => send(balancer))).not.toContain(a);
    });

    it('sends exactly one probe after the cool-down and everything else to the other upstream while it is out', async () => {
      const balancer = balancerOver(a, b);
      await open(a);
      vi.advanceTimersByTime(10_000);
      // Round robin would come to `a` first: that pick is the probe.
      expect(Array.from({ length: 8 }, () => send(balancer))).toEqual([a, b, b, b, b, b, b, b]);
      expect(a.breaker.state).toBe('half-open');
      // However long the probe takes, nothing else waits behind it.
      vi.advanceTimersByTime(60_000);
      expect(Array.from({ length: 4 }, () => send(balancer))).toEqual([b, b, b, b]);
    });

    it('puts the upstream back in rotation once its probe succeeds', async () => {
      const balancer = balancerOver(a, b);
      await open(a);
      vi.advanceTimersByTime(10_000);
      expect(balancer.pick()).toBe(a);
      const probe = a.breaker.begin();
      expect(balancer.pick()).toBe(b);
      probe.succeed();
      await vi.advanceTimersByTimeAsync(0);
      expect(a.breaker.state).toBe('closed');
      expect(new Set(Array.from({ length: 4 }, () => balancer.pick()))).toEqual(new Set([a, b]));
    });
  });
});
