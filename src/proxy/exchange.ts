import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Upstream } from '../balancer/upstream.js';
import type { BreakerAttempt } from '../breaker/upstream-breaker.js';
import type { BackendCounters } from '../metrics/metrics.service.js';

export type Next = (error?: unknown) => void;

/** What the gateway knows about one proxied request while it is in flight. */
export class Exchange {
  readonly startedAt = performance.now();
  upstream: Upstream | undefined;
  backend: BackendCounters | undefined;
  /** The current attempt's report to its backend's breaker; undefined once it has ended. */
  attempt: BreakerAttempt | undefined;
  /** Cancels the current attempt's upstream request, for transports that do not do it themselves. */
  cancel: { abort(): void } | undefined;
  /** Upstreams already tried, created on the first failover only. */
  tried: Set<Upstream> | undefined;
  /** A backend's response has started; from here on errors can only cut the connection. */
  answered = false;
  /** The gateway answered this request itself (502, 503, 504). */
  failed = false;
  /** The client broke the protocol or its deadline (408, 400) and was answered by the dispatcher. */
  clientFault = false;
  status = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly next: Next,
    /** Nothing to resend: the request can go to another backend if the first cannot be reached. */
    readonly bodiless: boolean,
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
