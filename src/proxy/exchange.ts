import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Upstream } from '../balancer/upstream.js';
import type { BreakerAttempt } from '../breaker/upstream-breaker.js';
import type { BackendCounters } from '../metrics/metrics.service.js';
import { NO_BODY, type RequestBody } from './request-body.js';

export type Next = (error?: unknown) => void;

/** Settles the current retry try for cockatiel's retry loop. */
export interface TryOutcome {
  /** The chain is over: delivered, failed or abandoned. */
  finish(): void;
  /** This try failed and another may follow. */
  retry(error: Error): void;
}

/** What the gateway knows about one proxied request while it is in flight. */
export class Exchange {
  readonly startedAt = performance.now();
  upstream: Upstream | undefined;
  backend: BackendCounters | undefined;
  /** The current attempt's report to its backend's breaker; undefined once it has ended. */
  attempt: BreakerAttempt | undefined;
  /** Gives back the current attempt's slot under --max-inflight-per-backend. */
  releaseSlot: (() => void) | undefined;
  /** Cancels the current attempt's upstream request, for transports that do not do it themselves. */
  cancel: { abort(): void } | undefined;
  /** The request body as the transports send it; kept in memory when it may have to be sent again. */
  body: RequestBody = NO_BODY;
  /** Upstreams already tried, created on the first retry only. */
  tried: Set<Upstream> | undefined;
  /** Retries made so far. */
  retries = 0;
  /** Milliseconds spent in tries so far (backoffs excluded): the chain answers within --write-timeout. */
  triedMs = 0;
  tryStartedAt = 0;
  /** How long the current try may wait for a response head. */
  tryTimeoutMs = 0;
  /** A retry of this request is waiting out its backoff, holding a slot of the retry budget. */
  holdsRetrySlot = false;
  /** What the latest failed try met, to answer with if no backend is left to try. */
  lastError: Error | undefined;
  /** Set while cockatiel's retry loop runs this request. */
  tryOutcome: TryOutcome | undefined;
  /** A backend's response has started; from here on errors can only cut the connection. */
  answered = false;
  /** The gateway answered this request itself (502, 503, 504). */
  failed = false;
  /** The client broke the protocol or its deadline (408, 400) and was answered by the dispatcher. */
  clientFault = false;
  /** Why the request did not end well, for the access log: `ECONNREFUSED`, `try timeout`, `client went away`… */
  cause: string | undefined;
  status = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly next: Next,
    /** The request has no body. */
    readonly bodiless: boolean,
    /** Sending it twice changes nothing (method or Idempotency-Key). */
    readonly idempotent: boolean,
  ) {}
}

const EXCHANGE = Symbol('gateway.exchange');
type ProxiedRequest = IncomingMessage & { [EXCHANGE]?: Exchange };

/** Ties the exchange to its request, for code that only gets the request (proxy library callbacks). */
export function attachExchange(exchange: Exchange): void {
  (exchange.req as ProxiedRequest)[EXCHANGE] = exchange;
}

export function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return (req as ProxiedRequest)[EXCHANGE];
}
