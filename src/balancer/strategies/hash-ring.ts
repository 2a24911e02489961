import type { Upstream } from '../upstream.js';

/** What the ring reads of a backend. */
type RingMember = Pick<Upstream, 'url' | 'weight'>;

/** Points each unit of weight puts on the ring: libketama's 160, so keys spread within a few points of even. */
export const POINTS_PER_WEIGHT = 160;
/** Most points on one ring, however large the weights: sorting more would stall a reload. */
const MOST_POINTS = 1 << 20;

/**
 * 32-bit FNV-1a over the text's UTF-16 code units, then murmur3's finaliser so that keys differing
 * in their last character land far apart. The same in every process and on every platform: a key
 * maps to the same backend on every gateway and after a restart.
 */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * A Ketama-style consistent-hash ring: every backend puts POINTS_PER_WEIGHT points per unit of
 * weight on a 32-bit circle, at hashes of its URL; a key belongs to the first point at or after its
 * own hash. A backend that leaves takes only its own arcs with it (≈ 1/N of the keys), which go to
 * the next points round the ring; the others' keys stay where they were.
 */
export class HashRing<Member extends RingMember = Upstream> {
  /** Point positions, ascending. */
  private readonly points: Uint32Array;
  /** The backend owning each point. */
  private readonly owners: readonly Member[];

  /** The backends it was built from: the service's whole list, not the candidates of one moment. */
  readonly members: readonly Member[];

  // No parameter properties here: specs load this file in a second process with Node's type stripping.
  constructor(members: readonly Member[]) {
    this.members = members;
    const totalWeight = members.reduce((sum, upstream) => sum + upstream.weight, 0);
    const perWeight = Math.max(1, Math.min(POINTS_PER_WEIGHT, Math.floor(MOST_POINTS / Math.max(1, totalWeight))));
    const placed: { position: number; owner: Member }[] = [];
    for (const owner of members) {
      // The URL, not the list position: a backend keeps its points when others come and go.
      for (let i = 0; i < owner.weight * perWeight; i++) placed.push({ position: hash32(`${owner.url}#${i}`), owner });
    }
    // Ties (rare) broken by URL, so every gateway builds the same ring whatever the list order.
    placed.sort((a, b) => a.position - b.position || (a.owner.url < b.owner.url ? -1 : a.owner.url > b.owner.url ? 1 : 0));
    this.points = Uint32Array.from(placed, (point) => point.position);
    this.owners = placed.map((point) => point.owner);
  }

  get size(): number {
    return this.points.length;
  }

  /** Index of the first point at or after `hash`, wrapping round to 0. */
  firstPointFor(hash: number): number {
    const { points } = this;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (points[middle] < hash) low = middle + 1;
      else high = middle;
    }
    return low === points.length ? 0 : low;
  }

  /** The backend owning the point `index` steps round from `start`. */
  ownerAt(start: number, index: number): Member {
    return this.owners[(start + index) % this.owners.length];
  }
}
