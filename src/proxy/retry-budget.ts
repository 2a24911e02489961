/**
 * Envoy's retry budget: retries pending (waiting out their backoff) may be at most `ratio` of the
 * requests in flight, and at least `minimum` are always allowed. When a backend fails, retries must not multiply the load the
 * healthy ones get (a retry storm); the minimum keeps a quiet gateway able to retry at all.
 */
export class RetryBudget {
  private inFlight = 0;

  constructor(
    private readonly ratio = 0.2,
    private readonly minimum = 3,
  ) {}

  /** Takes a slot for one retry if the budget allows it; release it when that retry ends. */
  tryAcquire(requestsInFlight: number): boolean {
    if (this.inFlight >= Math.max(this.minimum, Math.floor(requestsInFlight * this.ratio))) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    if (this.inFlight > 0) this.inFlight--;
  }

  get retriesInFlight(): number {
    return this.inFlight;
  }
}
