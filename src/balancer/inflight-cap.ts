import { type BulkheadPolicy, bulkhead } from 'cockatiel';

/**
 * Envoy's kind of circuit breaking: at most `limit` requests in flight to one backend, on a
 * cockatiel bulkhead with no queue. A full backend is simply not available, so the balancer tries
 * the next one, and with every backend full the client gets 503 at once: a queue would only turn
 * an overload into latency and memory.
 */
export class InflightCap {
  private readonly policy: BulkheadPolicy;

  constructor(readonly limit: number) {
    this.policy = bulkhead(limit, 0);
  }

  get hasRoom(): boolean {
    return this.policy.executionSlots > 0;
  }

  get inFlight(): number {
    return this.limit - this.policy.executionSlots;
  }

  /** Takes a slot until the returned function is called; call only when `hasRoom` said yes. */
  occupy(): () => void {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    // A rejection (no room after all) leaves nothing to release; the caller checked hasRoom.
    this.policy.execute(() => done).catch(() => undefined);
    return release;
  }
}
