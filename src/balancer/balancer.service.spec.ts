import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BalancerService } from './balancer.service.js';
import { RoundRobinStrategy } from './strategies/round-robin.strategy.js';
import { Upstream } from './upstream.js';
import type { UpstreamPool } from './upstream-pool.js';

describe(BalancerService.name, () => {
  let a: Upstream;
  let b: Upstream;
  let c: Upstream;

  function balancerOver(...upstreams: Upstream[]): BalancerService {
    const pool = { upstreams } as unknown as UpstreamPool;
    return new BalancerService(pool, new RoundRobinStrategy());
  }

  beforeEach(() => {
    a = new Upstream('http://127.0.0.1:1');
    b = new Upstream('http://127.0.0.1:2');
    c = new Upstream('http://127.0.0.1:3');
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

  it('returns undefined when no upstream can take traffic', () => {
    for (const upstream of [a, b]) vi.spyOn(upstream, 'isAvailable').mockReturnValue(false);
    expect(balancerOver(a, b).pick()).toBeUndefined();
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
    const balancer = balancerOver(a);
    expect(balancer.pick()).toBeUndefined();
    available.mockReturnValue(true);
    expect(balancer.pick()).toBe(a);
  });
});
