import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamBreaker } from '../../breaker/upstream-breaker.js';
import { Upstream } from '../upstream.js';
import { LeastRequestStrategy } from './least-request.strategy.js';

describe(LeastRequestStrategy.name, () => {
  const made: Upstream[] = [];

  function upstreams(...inFlight: number[]): Upstream[] {
    const list = inFlight.map((count, i) => {
      const upstream = new Upstream(`http://127.0.0.1:${i + 1}`, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
      upstream.inFlight = count;
      return upstream;
    });
    made.push(...list);
    return list;
  }

  function shareOf(strategy: LeastRequestStrategy, candidates: readonly Upstream[], picks: number): Map<Upstream | undefined, number> {
    const counts = new Map<Upstream | undefined, number>();
    for (let i = 0; i < picks; i++) {
      const picked = strategy.select(candidates);
      counts.set(picked, (counts.get(picked) ?? 0) + 1);
    }
    return new Map([...counts].map(([upstream, count]) => [upstream, count / picks]));
  }

  afterEach(() => {
    for (const upstream of made.splice(0)) upstream.close();
  });

  it.each([
    { what: 'the less loaded of two, always', inFlight: [3, 1], busy: 0, most: 0 },
    { what: 'the less loaded of two, whichever comes first', inFlight: [0, 4], busy: 1, most: 0 },
    { what: 'fewer than 10 % of picks for one of five holding 50 requests', inFlight: [50, 0, 1, 0, 2], busy: 0, most: 0.1 },
    { what: 'fewer than 10 % of picks for one of three holding 50 requests when the others hold 5', inFlight: [5, 50, 5], busy: 1, most: 0.1 },
  ])('gives $what', ({ inFlight, busy, most }) => {
    const candidates = upstreams(...inFlight);
    const shares = shareOf(new LeastRequestStrategy(), candidates, 4_000);
    expect(shares.get(candidates[busy]) ?? 0).toBeLessThanOrEqual(most);
  });

  it('compares two distinct backends even when the random draw repeats itself', () => {
    const candidates = upstreams(7, 0);
    // Both draws land on index 0: the second is moved past it, so the idle one is compared and wins.
    const strategy = new LeastRequestStrategy(() => 0);
    expect(strategy.select(candidates)).toBe(candidates[1]);
  });

  it('spreads evenly over idle backends', () => {
    const candidates = upstreams(0, 0, 0, 0);
    for (const share of shareOf(new LeastRequestStrategy(), candidates, 8_000).values()) {
      expect(share).toBeGreaterThan(0.2);
      expect(share).toBeLessThan(0.3);
    }
  });

  it('splits idle backends of weights 3 and 1 about 3 to 1', () => {
    const [heavy, light] = upstreams(0, 0);
    heavy.weight = 3;
    const shares = shareOf(new LeastRequestStrategy(), [heavy, light], 8_000);
    expect(shares.get(heavy)).toBeGreaterThan(0.72);
    expect(shares.get(heavy)).toBeLessThan(0.78);
  });

  it('compares load per unit of weight: weight 3 holding 2 beats weight 1 holding 1', () => {
    const [heavy, light] = upstreams(2, 1);
    heavy.weight = 3;
    expect(shareOf(new LeastRequestStrategy(), [heavy, light], 1_000).get(heavy)).toBe(1);
  });

  it('picks the only candidate, and nothing from none', () => {
    const [only] = upstreams(9);
    const strategy = new LeastRequestStrategy();
    expect([strategy.select([only]), strategy.select([])]).toEqual([only, undefined]);
  });
});
