import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { BalanceHints } from '../balancer/balancer.service.js';
import type { ServicePool } from '../balancer/service-pool.js';
import type { Upstream } from '../balancer/upstream.js';
import type { BreakerAttempt } from '../breaker/upstream-breaker.js';
import type { BackendCounters } from '../metrics/metrics.service.js';
import { NO_BODY, type RequestBody } from './transport/request-body.js';

export type Next = (error?: unknown) => void;

/**
 * Where a proxied request stands. It moves forward only:
 * receiving → trying (→ keeping) ⇄ backing-off → delivering | answered-by-gateway; the dispatcher
 * may mark a request `client-fault` (408, 400) before it is answered. A client that goes away leaves the
 * phase where it was, and `settle` reads it.
 */
export type ExchangePhase =
  /** Reading a body that may have to be sent again, before the first try. */
  | 'receiving'
  /** A try is out; no response head yet. */
  | 'trying'
  /** A backend's error answer is being read, to pass on if no retry does better; its try is not over yet. */
  | 'keeping'
  /** A try failed; the next one waits out its backoff. */
  | 'backing-off'
  /** A backend's response is on its way to the client. */
  | 'delivering'
  /** The gateway answered itself (502, 503, 504). */
  | 'answered-by-gateway'
  /** The client broke the protocol or its deadline (408, 400), and the dispatcher answered it. */
  | 'client-fault';

/** A backend's whole answer, held back while a retry might bring a better one (see kept-response.ts). */
export interface KeptResponse {
  readonly status: number;
  readonly statusMessage: string | undefined;
  readonly headers: string[] | OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** Settles the current retry try for cockatiel's retry loop. */
export interface TryOutcome {
  /** The chain is over: delivered, failed or abandoned. */
  finish(): void;
  /** This try failed and another may follow. */
  retry(error: Error): void;
}

/** What the gateway knows about one proxied request while it is in flight. */
export class Exchange implements BalanceHints {
  readonly startedAt = performance.now();
  phase: ExchangePhase = 'receiving';
  /** The service its route names; undefined until routed (and for a request no route matched). */
  service: ServicePool | undefined;
  /** The request target to send: the client's, or with the route's prefix stripped. */
  target = '/';
  upstream: Upstream | undefined;
  /** BalanceHints: the request's consistent-hash key, read once for every try. */
  hashKey: string | undefined = undefined;
  /** BalanceHints: its sticky cookie's value. */
  stickyTo: string | undefined = undefined;
  backend: BackendCounters | undefined;
  /** The current try's report to its backend's breaker; undefined once the try has ended. */
  attempt: BreakerAttempt | undefined;
  /** Gives back the current try's slot under --max-inflight-per-backend. */
  releaseSlot: (() => void) | undefined;
  /** Cancels the current try's upstream request, for transports that do not do it themselves. */
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
  /** The latest backend answer that was not passed on because a retry might do better; the client gets it if none does. */
  kept: KeptResponse | undefined;
  /** The backend that gave `kept`: a sticky cookie names it if the client gets that answer. */
  keptFrom: Upstream | undefined;
  /** What the latest failed try met: answered with if no backend is left to try and nothing was kept. */
  lastError: Error | undefined;
  /** Set while cockatiel's retry loop runs this request. */
  tryOutcome: TryOutcome | undefined;
  /** Why the request ended as it did, when that was not a backend's answer: the status comes from it. */
  failure: unknown;
  /** Why the request did not end well, for the access log: `ECONNREFUSED`, `backend timed out`, `client went away`… */
  cause: string | undefined;
  /** What the client got (or the log says): set when the phase says who answered. */
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

  /** A backend's response (or the kept one) has started: from here on errors can only cut the connection. */
  get answered(): boolean {
    return this.phase === 'delivering';
  }

  /** Whether the request is over as far as answering it goes: nobody tries anything more for it. */
  get concluded(): boolean {
    return this.phase === 'delivering' || this.phase === 'answered-by-gateway' || this.phase === 'client-fault';
  }
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
