import { ExponentialBackoff, fullJitterGenerator, handleType, retry, type RetryPolicy } from 'cockatiel';
import type { Exchange } from '../exchange.js';
import type { RetryBudget } from './retry-budget.js';
import { type FailureKind, retryAllowed } from './retry-rules.js';

/** A try failed and the retry rules allow another: the one error cockatiel's retry policy handles. */
class RetryableTry extends Error {}

/** Envoy's retry backoff: full jitter over 25 ms doubling up to 250 ms. */
const RETRY_BACKOFF = new ExponentialBackoff({ initialDelay: 25, maxDelay: 250, generator: fullJitterGenerator });

/** What the loop drives: the proxy middleware. */
export interface RetryTarget {
  /** The backoff is over: send the next try (or answer, if no backend is left). */
  tryAgain(exchange: Exchange): void;
  /** The policy gave up before the rules did: answer with what the last try met. */
  giveUp(exchange: Exchange, error: unknown): void;
}

export interface RetryLimits {
  /** --retries (or the service's `retries`) */
  readonly retries: number;
  /** --write-timeout (or the service's `writeTimeout`): the whole chain of tries answers within it; 0 means none. */
  readonly writeTimeoutMs: number;
}

/**
 * The retry loop, on cockatiel's retry policy: whether a failed try may be followed by another,
 * and the backoff before it. The loop starts only once a first try has failed, and that failure is
 * replayed to the policy as its first attempt, so requests that never fail never enter it.
 */
export class RetryLoop {
  /** One policy per retry count: a service may allow more (or fewer) retries than --retries. */
  private readonly policies = new Map<number, RetryPolicy>();

  constructor(
    private readonly limits: RetryLimits,
    private readonly budget: RetryBudget,
    private readonly target: RetryTarget,
  ) {
  }

  private policyFor(retries: number): RetryPolicy {
    let policy = this.policies.get(retries);
    if (!policy) {
      policy = retry(handleType(RetryableTry), { maxAttempts: retries, backoff: RETRY_BACKOFF });
      this.policies.set(retries, policy);
    }
    return policy;
  }

  /** The request's service's limits (retries, write timeout), or the flags' for one not routed. */
  private limitsOf(exchange: Exchange): RetryLimits {
    return exchange.service?.settings ?? this.limits;
  }

  /** A request arrived: it earns the retry budget its share. */
  requestArrived(): void {
    this.budget.recordRequest();
  }

  /**
   * Whether a failed try may be followed by another: the rules (method, failure, body), the retry
   * count, the time left within --write-timeout, and the retry budget. A refused connection spends
   * no budget: it put no load on any backend, so retrying it cannot feed a retry storm, and it is
   * what a backend that just died produces for every request.
   */
  mayRetry(exchange: Exchange, failure: FailureKind): boolean {
    const limits = this.limitsOf(exchange);
    if (exchange.retries >= limits.retries || !retryAllowed(exchange.idempotent, failure, exchange.body.replay)) return false;
    if (limits.writeTimeoutMs > 0 && exchange.triedMs >= limits.writeTimeoutMs) return false;
    return failure === 'refused' || this.budget.tryWithdraw();
  }

  /** Hands a failed try to the policy, which backs off and then calls `target.tryAgain`. */
  retryAfter(exchange: Exchange, error: Error): void {
    exchange.lastError = error;
    exchange.phase = 'backing-off';
    if (exchange.tryOutcome) {
      exchange.tryOutcome.retry(error);
      return;
    }
    let replayed = false;
    this.policyFor(this.limitsOf(exchange).retries)
      .execute(() => {
        if (replayed) return this.nextTry(exchange);
        replayed = true;
        throw new RetryableTry(error.message, { cause: error });
      })
      .catch((gaveUp: unknown) => {
        if (!exchange.concluded && !exchange.res.destroyed) this.target.giveUp(exchange, (gaveUp as Error).cause ?? gaveUp);
      });
  }

  /** The request is over (answered, or its client gone): ends the loop if it runs. */
  finish(exchange: Exchange): void {
    exchange.tryOutcome?.finish();
  }

  /** One retry, after the backoff: settled when that try succeeds (finish) or fails (retry). */
  private nextTry(exchange: Exchange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      exchange.tryOutcome = { finish: resolve, retry: (error) => reject(new RetryableTry(error.message, { cause: error })) };
      // The client went away, or was answered meanwhile (a fault in its own body).
      if (exchange.res.destroyed || exchange.concluded) {
        resolve();
        return;
      }
      this.target.tryAgain(exchange);
    });
  }
}
