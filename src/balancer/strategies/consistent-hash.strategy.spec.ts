import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamBreaker } from '../../breaker/upstream-breaker.js';
import { Upstream } from '../upstream.js';
import { ConsistentHashStrategy } from './consistent-hash.strategy.js';
import { HashRing, hash32, POINTS_PER_WEIGHT } from './hash-ring.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

describe(ConsistentHashStrategy.name, () => {
  const made: Upstream[] = [];

  function upstreams(count: number, firstPort = 1): Upstream[] {
    const list = Array.from({ length: count }, (_, i) => new Upstream(`http://10.0.0.${i + 1}:${8080 + firstPort - 1}`, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 })));
    made.push(...list);
    return list;
  }

  /** A strategy over `members`, all of them candidates. */
  function over(members: readonly Upstream[], boundedLoad?: number): ConsistentHashStrategy {
    const strategy = new ConsistentHashStrategy(boundedLoad);
    strategy.membersChanged(members);
    return strategy;
  }

  /** Each key's backend URL. */
  function mapping(strategy: ConsistentHashStrategy, candidates: readonly Upstream[], keys = KEYS): Map<string, string | undefined> {
    return new Map(keys.map((key) => [key, strategy.select(candidates, key)?.url]));
  }

  afterEach(() => {
    for (const upstream of made.splice(0)) upstream.close();
  });

  it('sends the same key to the same backend every time', () => {
    const members = upstreams(5);
    const strategy = over(members);
    const first = mapping(strategy, members);
    for (let round = 0; round < 3; round++) expect(mapping(strategy, members)).toEqual(first);
  });

  it('spreads 10,000 keys over 5 equal backends within 5 points of even (15–25 % each)', () => {
    const members = upstreams(5);
    const shares = sharesOf(mapping(over(members), members).values(), KEYS.length);
    expect(shares.size).toBe(5);
    for (const share of shares.values()) {
      expect(share).toBeGreaterThanOrEqual(0.15);
      expect(share).toBeLessThanOrEqual(0.25);
    }
  });

  it('gives a backend of weight 2 about twice the keys of one of weight 1', () => {
    const [heavy, light] = upstreams(2);
    heavy.weight = 2;
    const shares = sharesOf(mapping(over([heavy, light]), [heavy, light]).values(), KEYS.length);
    expect(shares.get(heavy.url)).toBeGreaterThan(0.6);
    expect(shares.get(heavy.url)).toBeLessThan(0.73);
  });

  it('moves only the removed backend’s keys when 1 of 5 leaves (≤ 25 % of 10,000), and restores them when it returns', () => {
    const members = upstreams(5);
    const before = mapping(over(members), members);
    const remaining = members.slice(0, 2).concat(members.slice(3));
    const after = mapping(over(remaining), remaining);
    const moved = KEYS.filter((key) => after.get(key) !== before.get(key));
    expect(moved.length / KEYS.length).toBeLessThanOrEqual(0.25);
    expect(moved.every((key) => before.get(key) === members[2].url)).toBe(true);
    expect(mapping(over(members), members)).toEqual(before);
  });

  it('keeps every other key where it was when one backend joins, taking about its share', () => {
    const members = upstreams(5);
    const before = mapping(over(members.slice(0, 4)), members.slice(0, 4));
    const after = mapping(over(members), members);
    const moved = KEYS.filter((key) => after.get(key) !== before.get(key));
    expect(moved.every((key) => after.get(key) === members[4].url)).toBe(true);
    expect(moved.length / KEYS.length).toBeLessThanOrEqual(0.25);
  });

  it('sends a key whose backend is out of rotation to the next one on the ring, and back when it returns', () => {
    const members = upstreams(5);
    const strategy = over(members);
    const before = mapping(strategy, members);
    const out = members[1];
    const available = members.filter((upstream) => upstream !== out);
    const during = mapping(strategy, available);
    for (const key of KEYS) {
      if (before.get(key) === out.url) expect(during.get(key)).not.toBe(out.url);
      else expect(during.get(key)).toBe(before.get(key));
    }
    // The next on the ring, as if it had left: the same place its keys go when it is removed.
    const removed = members.filter((upstream) => upstream !== out);
    expect(during).toEqual(mapping(over(removed), removed));
    expect(mapping(strategy, members)).toEqual(before);
  });

  it('spreads requests without a key round robin', () => {
    const members = upstreams(3);
    const strategy = over(members);
    const picks = Array.from({ length: 6 }, () => strategy.select(members, undefined));
    expect(picks).toEqual([...members, ...members]);
  });

  it('returns undefined when there are no candidates', () => {
    expect(over(upstreams(2)).select([], 'user-1')).toBeUndefined();
  });

  it.each([
    { what: 'with no bound, sends a hot key to its backend however loaded', boundedLoad: undefined, load: 50, stays: true },
    { what: 'with boundedLoad 1.25, passes a backend holding more than 1.25 × the average over', boundedLoad: 1.25, load: 50, stays: false },
    { what: 'with boundedLoad 1.25, keeps a key on a backend within the bound', boundedLoad: 1.25, load: 1, stays: true },
  ])('$what', ({ boundedLoad, load, stays }) => {
    const members = upstreams(4);
    const strategy = over(members, boundedLoad);
    const home = strategy.select(members, 'hot-key')!;
    home.inFlight = load;
    for (const other of members) if (other !== home) other.inFlight = 1;
    expect(strategy.select(members, 'hot-key') === home).toBe(stays);
  });

  it(`places ${POINTS_PER_WEIGHT} points per unit of weight`, () => {
    const [a, b] = upstreams(2);
    b.weight = 3;
    expect(new HashRing([a, b]).size).toBe(4 * POINTS_PER_WEIGHT);
  });

  it('maps every key the same way in another process (as after a restart)', () => {
    const members = [
      { url: 'http://10.0.0.1:8080', weight: 1 },
      { url: 'http://10.0.0.2:8080', weight: 2 },
      { url: 'https://api-3.internal', weight: 1 },
    ];
    const keys = KEYS.slice(0, 2_000);
    const here = ownersIn(new HashRing(members), keys);
    const ringFile = fileURLToPath(new URL('./hash-ring.ts', import.meta.url));
    // A fresh Node process loading the same source: nothing carried over but the code.
    const script = `
      const { HashRing, hash32 } = await import(${JSON.stringify(ringFile)});
      const ring = new HashRing(${JSON.stringify(members)});
      const keys = ${JSON.stringify(keys)};
      console.log(JSON.stringify(keys.map((key) => ring.ownerAt(ring.firstPointFor(hash32(key)), 0).url)));`;
    const output = execFileSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual(here);
  });
});

function ownersIn<Member extends { url: string; weight: number }>(ring: HashRing<Member>, keys: readonly string[]): string[] {
  return keys.map((key) => ring.ownerAt(ring.firstPointFor(hash32(key)), 0).url);
}

function sharesOf(owners: Iterable<string | undefined>, total: number): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return new Map([...counts].map(([owner, count]) => [owner, count / total]));
}
