/** How the budget is sized: Linkerd's defaults (its retry budget, from Finagle's and tower's). */
export interface RetryBudgetOptions {
  /** Retries may add this share of the requests seen in the window. */
  readonly ratio: number;
  /** And this many each second of the window, however few requests there were. */
  readonly minPerSecond: number;
  /** How far back requests and retries are counted, in whole seconds. */
  readonly windowSeconds: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = { ratio: 0.2, minPerSecond: 10, windowSeconds: 10 };

/**
 * A retry budget over a sliding window (Linkerd's rule): over the last 10 s, retries may be at
 * most 20 % of the requests plus 10 per second. When every backend fails (an overload), retries
 * can add no more than a fifth to the load, so they cannot turn it into a retry storm; when one
 * backend of several fails, the few retries it causes before its breaker opens fit easily, however
 * many of them come at once — which a cap on retries *in flight* (Envoy's) does not allow: a burst of
 * failures at the same instant went over it and reached clients.
 *
 * Counted in one-second buckets, so the work per call is constant.
 */
export class RetryBudget {
  private readonly requests: Int32Array;
  private readonly retries: Int32Array;
  private requestsInWindow = 0;
  private retriesInWindow = 0;
  /** The whole second the newest bucket counts. */
  private second = -Infinity;
  private readonly reserve: number;

  constructor(
    private readonly options: RetryBudgetOptions = DEFAULT_RETRY_BUDGET,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.requests = new Int32Array(options.windowSeconds);
    this.retries = new Int32Array(options.windowSeconds);
    this.reserve = options.minPerSecond * options.windowSeconds;
  }

  /** A request arrived: it earns the budget its share. */
  recordRequest(): void {
    const bucket = this.advance();
    this.requests[bucket]++;
    this.requestsInWindow++;
  }

  /** Spends one retry if the budget has one; false means the failure goes to the client. */
  tryWithdraw(): boolean {
    const bucket = this.advance();
    if (this.retriesInWindow >= this.reserve + this.options.ratio * this.requestsInWindow) return false;
    this.retries[bucket]++;
    this.retriesInWindow++;
    return true;
  }

  /** Retries spent in the current window. */
  get spent(): number {
    this.advance();
    return this.retriesInWindow;
  }

  /** Moves the window to now, forgetting the seconds that left it; returns the current bucket. */
  private advance(): number {
    const size = this.requests.length;
    const second = Math.floor(this.nowMs() / 1_000);
    if (second !== this.second) {
      // Every bucket is still zero on the first call: there is nothing to forget.
      const expired = this.second === -Infinity ? 0 : Math.min(size, second - this.second);
      for (let i = 1; i <= expired; i++) {
        const bucket = (((this.second + i) % size) + size) % size;
        this.requestsInWindow -= this.requests[bucket];
        this.retriesInWindow -= this.retries[bucket];
        this.requests[bucket] = 0;
        this.retries[bucket] = 0;
      }
      this.second = second;
    }
    return ((second % size) + size) % size;
  }
}
