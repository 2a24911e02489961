import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Upstream } from '../upstream.js';
import { UpstreamBreaker } from '../../breaker/upstream-breaker.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

describe(RoundRobinStrategy.name, () => {
  let a: Upstream;
  let b: Upstream;
  let c: Upstream;
  let strategy: RoundRobinStrategy;

  beforeEach(() => {
    a = new Upstream('http://127.0.0.1:1', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    b = new Upstream('http://127.0.0.1:2', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    c = new Upstream('http://127.0.0.1:3', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    strategy = new RoundRobinStrategy();
  });

  afterEach(() => {
    for (const upstream of [a, b, c]) upstream.close();
  });

  it('cycles through the candidates in order', () => {
    const picks = Array.from({ length: 7 }, () => strategy.select([a, b, c]));
    expect(picks).toEqual([a, b, c, a, b, c, a]);
  });

  it('returns undefined when there are no candidates', () => {
    expect(strategy.select([])).toBeUndefined();
  });

  it('picks the only candidate every time', () => {
    expect([strategy.select([a]), strategy.select([a]), strategy.select([a])]).toEqual([a, a, a]);
  });

  it('stays fair when the candidate list shrinks', () => {
    strategy.select([a, b, c]); // a
    strategy.select([a, b, c]); // b: the next full-list pick would be c
    const remaining = [a, c];
    const counts = new Map<Upstream, number>();
    for (let i = 0; i < 10; i++) {
      const picked = strategy.select(remaining);
      expect(remaining).toContain(picked);
      counts.set(picked!, (counts.get(picked!) ?? 0) + 1);
    }
    expect(counts.get(a)).toBe(5);
    expect(counts.get(c)).toBe(5);
  });

  describe('with weights', () => {
    it('spreads weights 5, 1, 1 as NGINX does: a a b a c a a, never five in a row', () => {
      a.weight = 5;
      const picks = Array.from({ length: 7 }, () => strategy.select([a, b, c]));
      expect(picks).toEqual([a, a, b, a, c, a, a]);
    });

    it('gives weights 3 and 1 exactly 3,000 and 1,000 of 4,000 picks', () => {
      a.weight = 3;
      const counts = new Map<Upstream | undefined, number>();
      for (let i = 0; i < 4_000; i++) {
        const picked = strategy.select([a, b]);
        counts.set(picked, (counts.get(picked) ?? 0) + 1);
      }
      expect([counts.get(a), counts.get(b)]).toEqual([3_000, 1_000]);
    });
  });
});
