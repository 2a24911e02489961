import { CircuitBreakerPolicy, CircuitState, circuitBreaker, ConsecutiveBreaker, handleType, type IDisposable } from 'cockatiel';

/** A breaker's state as the gateway reports it (cockatiel numbers its states differently). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Where a state came from: this instance's own traffic or checks, or another member of the cluster. */
export type StateOrigin = 'local' | 'cluster';

export type BreakerStateListener = (state: BreakerState, origin: StateOrigin) => void;

/** A failure that counts against a backend: refused, reset, timed out, or a status in --breaker-statuses from it. */
export class UpstreamFailure extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'UpstreamFailure';
  }
}

/** The client left before the backend answered: says nothing about the backend. */
class AttemptAbandoned extends Error {}

/** Reports the outcome of one attempt at a backend, once; later calls are ignored. */
export interface BreakerAttempt {
  succeed(): void;
  fail(cause: unknown): void;
  /** The client went away first. Neutral, except for a probe, which then counts as failed. */
  abandon(): void;
}

export function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Isolated:
      // The gateway isolates a breaker only for an instant inside reset(), and reports nothing then;
      // if something held it isolated, the backend would be out like an open one.
      return 'open';
    default: {
      const unexpected: never = state;
      throw new Error(`unknown circuit state ${String(unexpected)}`);
    }
  }
}

export interface UpstreamBreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
}

/**
 * One backend's circuit breaker, on a cockatiel policy. cockatiel changes state only inside
 * `execute()`: every failure, and the probe, run as executions whose promise settles when the
 * backend's answer (or failure) is known. A success while closed only zeroes the count of
 * failures in a row, which is done directly (a promise chain per request cost more than the rest
 * of the breaker). The balancer asks `canTakeTraffic` before choosing: an open breaker lets
 * exactly one probe through once its cool-down has passed; while that probe is out (half-open)
 * everything else goes elsewhere, because cockatiel would queue it behind the probe.
 */
export class UpstreamBreaker {
  private readonly policy: CircuitBreakerPolicy;
  /** Kept to zero its failure count on reset(): cockatiel clears it only when a probe succeeds. */
  private readonly consecutiveFailures: ConsecutiveBreaker;
  private readonly cooldownMs: number;
  /** When the breaker last opened: cockatiel keeps its own copy private. */
  private openedAt = 0;
  /** Counts state changes, so an attempt can tell whether its news is stale. */
  private epoch = 0;
  /** True while reset() passes through cockatiel's Isolated state, which nobody should hear about. */
  private isolating = false;
  private readonly listeners: BreakerStateListener[] = [];

  /** Where the current state came from. */
  origin: StateOrigin = 'local';
  /**
   * Held open by the cluster (another instance's breaker opened) until this time (epoch ms); 0
   * when not held. Kept beside cockatiel's policy, which stays as it was: the hold overrides it.
   */
  private heldUntil = 0;
  /** This instance's probe of a held breaker is out. */
  private heldProbeOut = false;
  /**
   * In a cluster, a cooled-down breaker waits for the cluster's probe lease before it lets its
   * probe through (one probe for the whole cluster); the coordinator grants it. Alone, never gated.
   */
  private probesGated = false;
  private probePermitted = false;

  /** --breaker-failures=0: the breaker stays closed and counts nothing. */
  private readonly off: boolean;

  constructor(options: UpstreamBreakerOptions) {
    this.off = options.failures === 0;
    this.cooldownMs = options.cooldownMs;
    this.consecutiveFailures = new ConsecutiveBreaker(options.failures);
    this.policy = circuitBreaker(handleType(UpstreamFailure), {
      halfOpenAfter: options.cooldownMs,
      breaker: this.consecutiveFailures,
    });
    this.policy.onBreak(() => {
      if (this.isolating) return;
      this.openedAt = Date.now();
      this.probePermitted = false;
    });
    // Every change counts, the transient Isolated one included: it makes attempts begun before a
    // reset stale, so a probe still out when its backend was reset cannot re-open the breaker.
    this.policy.onStateChange((state) => {
      this.epoch++;
      // While the cluster holds the breaker, the hold is its state; the policy's changes are not news.
      if (this.isolating || this.heldUntil !== 0) return;
      this.origin = 'local';
      this.emit(toBreakerState(state));
    });
  }

  get state(): BreakerState {
    if (this.heldUntil !== 0) return this.heldProbeOut ? 'half-open' : 'open';
    return toBreakerState(this.policy.state);
  }

  /** Subscribes to state changes; each change is heard once, with where it came from. */
  onStateChange(listener: BreakerStateListener): void {
    this.listeners.push(listener);
  }

  /**
   * Closes the breaker from any state, because something more reliable than the traffic says the
   * backend is fine: the active health checks, or the cluster's probe (origin `cluster`). Listeners
   * hear one change, to closed; a closed breaker is left alone, its failure count included.
   */
  reset(origin: StateOrigin = 'local'): void {
    if (this.state === 'closed') return;
    this.endHold();
    this.origin = origin;
    if (this.policy.state !== CircuitState.Closed) this.closePolicyQuietly();
    this.epoch++;
    this.emit('closed');
  }

  /**
   * Another member of the cluster saw this backend fail: out of rotation here too for the rest of
   * its cool-down (`remainingMs`), after which one probe for the whole cluster decides. Also how a
   * held breaker re-opens when its own probe fails (origin `local`).
   */
  holdOpen(remainingMs: number, origin: StateOrigin = 'cluster'): void {
    if (this.off) return;
    const before = this.state;
    this.heldUntil = Date.now() + Math.max(0, remainingMs);
    this.heldProbeOut = false;
    this.probePermitted = false;
    this.origin = origin;
    // Attempts begun before the hold report nothing: they would re-open or close it with old news.
    this.epoch++;
    if (before !== 'open') this.emit('open');
  }

  /** From now on a cooled-down breaker lets its probe through only once permitProbe() is called. */
  gateProbes(): void {
    this.probesGated = true;
  }

  /** This instance holds the cluster's probe lease (or must decide alone): the next attempt may probe. */
  permitProbe(): void {
    this.probePermitted = true;
  }

  /** When the current opening's cool-down ends (epoch ms); undefined unless the breaker is open. */
  get probeDueAt(): number | undefined {
    if (this.heldUntil !== 0) return this.heldProbeOut ? undefined : this.heldUntil;
    return this.policy.state === CircuitState.Open ? this.openedAt + this.cooldownMs : undefined;
  }

  /** Whether an attempt may start now; if the breaker is open and cooled down, that attempt is the probe. */
  get canTakeTraffic(): boolean {
    if (this.heldUntil !== 0) return !this.heldProbeOut && this.probePermitted && Date.now() >= this.heldUntil;
    switch (this.policy.state) {
      case CircuitState.Closed:
        return true;
      case CircuitState.Open:
        return Date.now() - this.openedAt >= this.cooldownMs && (this.probePermitted || !this.probesGated);
      default:
        return false;
    }
  }

  heldProbeFailed(): void {
    this.holdOpen(this.cooldownMs, 'local');
  }

  private startHeldProbe(): BreakerAttempt {
    this.heldProbeOut = true;
    this.probePermitted = false;
    this.origin = 'local';
    this.epoch++;
    this.emit('half-open');
    return new HeldProbeAttempt(this, this.epoch);
  }

  private endHold(): void {
    this.heldUntil = 0;
    this.heldProbeOut = false;
    this.probePermitted = false;
  }

  /** cockatiel has no public close(): isolating and releasing at once reaches Closed while keeping this policy. */
  private closePolicyQuietly(): void {
    this.isolating = true;
    try {
      const isolation: IDisposable = this.policy.isolate();
      // Otherwise the failures that opened the breaker would still count, and the next one re-open it.
      this.consecutiveFailures.success();
      isolation.dispose();
    } finally {
      this.isolating = false;
    }
  }

  private emit(state: BreakerState): void {
    for (const listener of this.listeners) listener(state, this.origin);
  }

  /**
   * Starts an attempt. If the breaker lets no traffic through (open and cooling down, or half-open
   * with its probe out), the balancer sent it anyway because nothing else could take it (panic
   * routing): such an attempt reports nothing, so only the probe decides when the breaker closes.
   */
  begin(): BreakerAttempt {
    if (this.off) return UNREPORTED_ATTEMPT;
    if (this.heldUntil !== 0) return this.canTakeTraffic ? this.startHeldProbe() : UNREPORTED_ATTEMPT;
    // The usual case: a closed breaker only counts, so the attempt needs no execution of its own.
    if (this.policy.state === CircuitState.Closed) return new ClosedAttempt(this, this.epoch);
    if (!this.canTakeTraffic) return UNREPORTED_ATTEMPT;
    // Open and cooled down: this attempt is the probe. Starting its execution is what moves the
    // breaker to half-open, synchronously.
    const attempt = new ProbeAttempt(this);
    this.policy.execute(attempt.outcome).catch(ignoreReported);
    // Read after execute(), which may just have moved the breaker to half-open for this probe.
    attempt.startedIn = this.epoch;
    return attempt;
  }

  /** Whether the breaker has changed state since `epoch` was read. */
  changedSince(epoch: number): boolean {
    return epoch !== this.epoch;
  }

  /** A success while closed: what cockatiel does for one (its breaker's count of failures in a row starts over). */
  recordClosedSuccess(): void {
    if (this.policy.state === CircuitState.Closed) this.consecutiveFailures.success();
  }

  /** A failure while closed goes through cockatiel, which counts it and opens the breaker at the threshold. */
  recordClosedFailure(cause: unknown): void {
    this.policy.execute(() => Promise.reject(new UpstreamFailure(cause))).catch(ignoreReported);
  }
}

/** An attempt made past the breaker (panic routing): its outcome is not the breaker's business. */
const UNREPORTED_ATTEMPT: BreakerAttempt = Object.freeze({ succeed() {}, fail() {}, abandon() {} });

/** The outcome was already reported to the breaker; nobody else awaits the execution. */
function ignoreReported(): void {}

/**
 * An attempt begun while the breaker was closed. Successes are counted at once, without a
 * cockatiel execution (a promise chain per request); failures go through cockatiel. News from
 * before the breaker last changed state is ignored, as for every attempt.
 */
class ClosedAttempt implements BreakerAttempt {
  private settled = false;

  constructor(
    private readonly breaker: UpstreamBreaker,
    private readonly startedIn: number,
  ) {}

  succeed(): void {
    if (this.settle()) this.breaker.recordClosedSuccess();
  }

  fail(cause: unknown): void {
    if (this.settle()) this.breaker.recordClosedFailure(cause);
  }

  /** The client left: that says nothing about the backend. */
  abandon(): void {
    this.settle();
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return !this.breaker.changedSince(this.startedIn);
  }
}

/** The probe of a breaker the cluster holds open: decided here, since cockatiel's policy never opened. */
class HeldProbeAttempt implements BreakerAttempt {
  private settled = false;

  constructor(
    private readonly breaker: UpstreamBreaker,
    private readonly startedIn: number,
  ) {}

  succeed(): void {
    // Closed, as after any successful probe: this instance's finding.
    if (this.settle()) this.breaker.reset('local');
  }

  fail(): void {
    if (this.settle()) this.breaker.heldProbeFailed();
  }

  /** As with cockatiel's probe: an abandoned probe proved nothing, so the breaker stays open. */
  abandon(): void {
    this.fail();
  }

  /** True the first time only, and only while the breaker is still where this probe left it. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return !this.breaker.changedSince(this.startedIn);
  }
}

/** The probe's report: an execution of cockatiel's, whose outcome decides whether the breaker closes. */
class ProbeAttempt implements BreakerAttempt {
  startedIn = 0;
  private settled = false;
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
  /** What cockatiel executes: resolves or rejects when the attempt reports. */
  readonly outcome = () => this.promise;

  constructor(private readonly breaker: UpstreamBreaker) {}

  succeed(): void {
    if (this.settle()) this.resolve();
  }

  fail(cause: unknown): void {
    // A failure that started before the breaker last changed state is stale news: counted, it
    // would re-open a breaker whose probe is out, or count twice towards opening it again.
    if (this.settle()) this.reject(this.breaker.changedSince(this.startedIn) ? new AttemptAbandoned() : new UpstreamFailure(cause));
  }

  abandon(): void {
    // cockatiel counts an unhandled error as a success in half-open, so an abandoned probe must fail explicitly.
    if (this.settle()) this.reject(new UpstreamFailure('probe abandoned by its client'));
  }

  /** True the first time only: an attempt reports once. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}
