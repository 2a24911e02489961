import type { Upstream } from '../upstream.js';
import type { BalancingStrategy } from './balancing-strategy.js';
import { HashRing, hash32 } from './hash-ring.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

const EMPTY_RING = new HashRing<Upstream>([]);

/**
 * Consistent hashing on a key of the request (`hashOn`): a key's backend is the owner of the first
 * ring point after the key's hash (see HashRing). A key whose backend cannot take the request
 * (breaker open, unhealthy, full, already tried) goes on round the ring to the next one that can,
 * and comes back when its own does: the ring is built from every backend of the service, not from
 * the candidates of the moment. Requests without the key are spread round robin.
 *
 * With `boundedLoad` (Envoy's hash_balance_factor), a backend already holding more than that many
 * times the average of requests in flight is passed over the same way ("consistent hashing with
 * bounded loads", Mirrokni et al.), so one hot key cannot bury its backend.
 */
export class ConsistentHashStrategy implements BalancingStrategy {
  private ring = EMPTY_RING;
  private readonly withoutKey = new RoundRobinStrategy();

  constructor(private readonly boundedLoad?: number) {}

  membersChanged(members: readonly Upstream[]): void {
    this.ring = new HashRing(members);
  }

  select(candidates: readonly Upstream[], key: string | undefined): Upstream | undefined {
    const { ring } = this;
    if (key === undefined || candidates.length === 0 || ring.size === 0) return this.withoutKey.select(candidates);
    const start = ring.firstPointFor(hash32(key));
    // The usual case: every backend can take it, and no bound applies.
    if (candidates === ring.members && this.boundedLoad === undefined) return ring.ownerAt(start, 0);
    const limit = this.boundedLoad === undefined ? Infinity : loadLimit(candidates, this.boundedLoad);
    for (let step = 0; step < ring.size; step++) {
      const owner = ring.ownerAt(start, step);
      if (owner.inFlight < limit && candidates.includes(owner)) return owner;
    }
    // Candidates the ring does not hold (it has not heard of them yet): still an answer.
    return this.withoutKey.select(candidates);
  }
}

/** In-flight count a backend must be under to take one more: ⌈factor × (all in flight + this one) / candidates⌉. */
function loadLimit(candidates: readonly Upstream[], factor: number): number {
  let inFlight = 1;
  for (const upstream of candidates) inFlight += upstream.inFlight;
  return Math.ceil((factor * inFlight) / candidates.length);
}
