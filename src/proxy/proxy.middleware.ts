import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { ExponentialBackoff, fullJitterGenerator, handleType, retry, type RetryPolicy } from 'cockatiel';
import { BalancerService } from '../balancer/balancer.service.js';
import type { Upstream } from '../balancer/upstream.js';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { GracefulShutdownService } from '../lifecycle/graceful-shutdown.service.js';
import { type BackendCounters, MetricsService } from '../metrics/metrics.service.js';
import { AccessLog } from './access-log.js';
import { attachExchange, Exchange, exchangeOf, type Next } from './exchange.js';
import { prepareRequestHeaders } from './forwarded-headers.js';
import { NoUpstreamAvailableError, toHttpException, UpstreamTimeoutError } from './proxy-errors.js';
import { identify, identityOf } from './request-identity.js';
import { readRequestBody } from './request-body.js';
import { RetryBudget } from './retry-budget.js';
import { type FailureKind, failureKindOf, isIdempotentRequest, retryAllowed } from './retry-rules.js';
import { type TransportEvents, type UpstreamResponse, UpstreamTransport } from './transport/upstream-transport.js';

/** A backend answered with a status that means it is in trouble: counts against its breaker. */
class BackendStatusFailure extends Error {
  constructor(readonly status: number) {
    super(`backend answered ${status}`);
  }
}

const BREAKER_FAILURE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** A try failed and the retry rules allow another: the one error cockatiel's retry policy handles. */
class RetryableTry extends Error {}

/** Envoy's retry backoff: full jitter over 25 ms doubling up to 250 ms. */
const RETRY_BACKOFF = new ExponentialBackoff({ initialDelay: 25, maxDelay: 250, generator: fullJitterGenerator });

/** A short reason for the access log: the socket error's code, or what the gateway's own error says. */
function describeFailure(error: unknown): string {
  if (error instanceof UpstreamTimeoutError) return 'backend timed out';
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause !== undefined && cause !== error) return describeFailure(cause);
  return error instanceof Error ? error.message : String(error);
}

function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

/**
 * Forwards a request to the upstream the balancer picks, through the transport --proxy-engine
 * chose (http-proxy-middleware by default). Hop-by-hop headers are stripped both ways and
 * X-Forwarded-* set; the response is written here so status, headers and body pass through as the
 * backend sent them, streamed. Every attempt reports to its backend's circuit breaker; a request
 * without a body whose backend cannot be reached goes to the next available one. Keeps the
 * NestMiddleware signature: errors the gateway must answer go to `next`.
 */
@Injectable()
export class ProxyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse>, TransportEvents {
  private readonly countersOf = new Map<Upstream, BackendCounters>();
  private readonly trustProxy: boolean;
  private readonly retries: number;
  private readonly retryBufferBytes: number;
  private readonly writeTimeoutMs: number;
  private readonly tryTimeoutMs: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly retryBudget = new RetryBudget();

  constructor(
    private readonly balancer: BalancerService,
    private readonly metrics: MetricsService,
    private readonly accessLog: AccessLog,
    pool: UpstreamPool,
    breakers: CircuitBreakerService,
    private readonly shutdown: GracefulShutdownService,
    @Inject(UpstreamTransport) private readonly transport: UpstreamTransport,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.trustProxy = config.trustProxy;
    this.retries = config.retries;
    this.retryBufferBytes = config.retryBufferBytes;
    this.writeTimeoutMs = config.writeTimeoutMs;
    this.tryTimeoutMs = config.tryTimeoutMs ?? config.writeTimeoutMs;
    // The retry loop runs only once a first try has failed: requests that succeed pay nothing for it.
    this.retryPolicy = retry(handleType(RetryableTry), { maxAttempts: config.retries, backoff: RETRY_BACKOFF });
    for (const upstream of pool.upstreams) this.countersOf.set(upstream, metrics.backend(upstream.url));
    breakers.onStateChange((backend, state) => metrics.breakerChanged(backend, state));
    transport.reportTo(this);
  }

  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // The dispatcher has usually done this already; a middleware mounted on its own does it here.
    identify(req);
    const exchange = new Exchange(req, res, next, hasNoBody(req), isIdempotentRequest(req.method, req.headers));
    attachExchange(exchange);
    this.metrics.requests++;
    res.once('close', () => this.settle(exchange));
    const upstream = this.balancer.pick();
    if (!upstream) {
      this.fail(exchange, new NoUpstreamAvailableError());
      return;
    }
    prepareRequestHeaders(req.headers, req.socket.remoteAddress ?? '', this.trustProxy);
    if (exchange.bodiless) {
      this.forward(exchange, upstream);
    } else if (this.retries === 0) {
      exchange.body = { replay: 'streamed', stream: req };
      this.forward(exchange, upstream);
    } else {
      void this.readBodyThenForward(exchange, upstream);
    }
  }

  /**
   * The dispatcher answered this request's client itself (408 past --read-timeout, 400 for a
   * malformed request): log that status, and do not count it as the gateway's error.
   */
  recordClientFault(req: IncomingMessage, status: number): void {
    const exchange = exchangeOf(req);
    if (!exchange || exchange.answered || exchange.failed) return;
    exchange.clientFault = true;
    exchange.status = status;
  }

  upstreamResponded(exchange: Exchange, response: UpstreamResponse): void {
    const status = response.status;
    if (BREAKER_FAILURE_STATUSES.has(status)) {
      const failure = new BackendStatusFailure(status);
      if (this.mayRetry(exchange, 'status')) {
        // Nobody will see this answer: a retry elsewhere will give the client a better one.
        response.body.destroy();
        this.endAttempt(exchange, failure);
        this.retryAfter(exchange, failure);
        return;
      }
      exchange.attempt?.fail(failure);
    } else {
      // The breaker learns the outcome now; the attempt itself stays open until the body is done.
      exchange.attempt?.succeed();
    }
    this.deliver(exchange, response);
  }

  upstreamFailed(exchange: Exchange, error: Error, staleConnection: boolean): void {
    const { res } = exchange;
    if (exchange.failed) return;
    this.endAttempt(exchange, error);
    if (exchange.answered || res.headersSent) {
      // The backend broke off mid-response: cut the client's connection so a truncated body is
      // never mistaken for a complete one.
      exchange.cause = `backend broke off mid-response: ${describeFailure(error)}`;
      res.destroy();
      return;
    }
    // The client has gone: there is no one to answer or retry for.
    if (res.destroyed) {
      exchange.tryOutcome?.finish();
      return;
    }
    if (this.mayRetry(exchange, staleConnection ? 'reset' : failureKindOf(error))) {
      this.retryAfter(exchange, error);
      return;
    }
    this.fail(exchange, error);
  }

  /** Reads a body that may have to be sent again into memory (up to --retry-buffer), then sends it. */
  private async readBodyThenForward(exchange: Exchange, upstream: Upstream): Promise<void> {
    const { req } = exchange;
    try {
      exchange.body = await readRequestBody(req, this.retryBufferBytes);
    } catch {
      return; // the client went away mid-body; settle() accounts for it
    }
    if (exchange.res.destroyed) return;
    if (exchange.body.replay === 'buffered') {
      // Known in full now: every try sends it with its length, whatever framing the client used.
      delete req.headers['transfer-encoding'];
      req.headers['content-length'] = String(exchange.body.data.length);
    }
    this.forward(exchange, upstream);
  }

  /** Sends one try to `upstream`. */
  private forward(exchange: Exchange, upstream: Upstream): void {
    const backend = this.countersOf.get(upstream)!;
    exchange.upstream = upstream;
    exchange.backend = backend;
    exchange.attempt = upstream.breaker.begin();
    exchange.releaseSlot = upstream.cap?.occupy();
    exchange.tryStartedAt = performance.now();
    exchange.tryTimeoutMs = this.writeTimeoutMs > 0 ? Math.min(this.tryTimeoutMs, this.writeTimeoutMs - exchange.triedMs) : this.tryTimeoutMs;
    backend.requests++;
    backend.inFlight++;
    this.transport.send(exchange);
  }

  /**
   * Whether a failed try may be followed by another: the rules (method, failure, body), the retry
   * count, the time left within --write-timeout, and the retry budget. As in Envoy, the budget
   * counts retries waiting out their backoff; a slot is taken here and given back when the retry is
   * sent. A refused connection takes none: it put no load on any backend, so retrying it cannot
   * feed a retry storm, and it is what a backend that just died produces for every request.
   */
  private mayRetry(exchange: Exchange, failure: FailureKind): boolean {
    if (exchange.retries >= this.retries || !retryAllowed(exchange.idempotent, failure, exchange.body.replay)) return false;
    if (this.writeTimeoutMs > 0 && exchange.triedMs >= this.writeTimeoutMs) return false;
    if (failure === 'refused') return true;
    if (!this.retryBudget.tryAcquire(this.metrics.inFlight)) return false;
    exchange.holdsRetrySlot = true;
    return true;
  }

  /**
   * Hands a failed try to cockatiel's retry policy, which backs off and calls `nextTry`. The first
   * failure starts the loop: it is replayed to the policy as its first attempt, so the try that
   * has already happened is not repeated and requests that never fail never enter the loop.
   */
  private retryAfter(exchange: Exchange, error: Error): void {
    exchange.lastError = error;
    if (exchange.tryOutcome) {
      exchange.tryOutcome.retry(error);
      return;
    }
    let replayed = false;
    this.retryPolicy
      .execute(() => {
        if (replayed) return this.nextTry(exchange);
        replayed = true;
        throw new RetryableTry(error.message, { cause: error });
      })
      .catch((gaveUp: unknown) => {
        // Only reachable if the policy stops before our own rules do; answer rather than hang.
        if (!exchange.failed && !exchange.answered && !exchange.res.destroyed) this.fail(exchange, (gaveUp as Error).cause ?? gaveUp);
      });
  }

  /** One retry, after the backoff: on a backend not tried yet when there is one. */
  private nextTry(exchange: Exchange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      exchange.tryOutcome = { finish: resolve, retry: (error) => reject(new RetryableTry(error.message, { cause: error })) };
      // The backoff is over: this retry no longer counts against the budget.
      this.releaseRetrySlot(exchange);
      if (exchange.res.destroyed) {
        resolve();
        return;
      }
      (exchange.tried ??= new Set()).add(exchange.upstream!);
      const upstream = this.balancer.pick(exchange.tried) ?? this.balancer.pick();
      if (!upstream) {
        // Every backend left the rotation while this request was being tried: answer with what
        // the last try met, which says more than "none available".
        this.fail(exchange, exchange.lastError);
        return;
      }
      exchange.retries++;
      this.metrics.retries++;
      this.forward(exchange, upstream);
    });
  }

  private deliver(exchange: Exchange, response: UpstreamResponse): void {
    const { res } = exchange;
    exchange.answered = true;
    exchange.status = response.status;
    exchange.tryOutcome?.finish();
    if (res.destroyed) {
      response.body.destroy();
      return;
    }
    // A response that was under way when the drain began is its connection's last.
    if (this.shutdown.draining) res.setHeader('connection', 'close');
    const { headers } = response;
    const requestId = identityOf(exchange.req).requestId;
    if (Array.isArray(headers)) headers.push('x-request-id', requestId);
    else headers['x-request-id'] = requestId;
    res.writeHead(response.status, response.statusMessage, headers);
    response.body.pipe(res);
  }

  /** Closes the current attempt; `failure` counts against its backend and its breaker. */
  private endAttempt(exchange: Exchange, failure?: unknown): void {
    const attempt = exchange.attempt;
    if (!attempt) return;
    exchange.attempt = undefined;
    exchange.releaseSlot?.();
    exchange.releaseSlot = undefined;
    const tryMs = performance.now() - exchange.tryStartedAt;
    exchange.triedMs += tryMs;
    const backend = exchange.backend!;
    backend.inFlight--;
    let status: number;
    if (failure !== undefined) {
      backend.errors++;
      attempt.fail(failure);
      status = 502; // no usable answer from this backend, whatever it started to send
    } else if (exchange.answered) {
      backend.responses++;
      status = exchange.status;
    } else {
      attempt.abandon();
      status = 499;
    }
    this.metrics.tryCompleted(backend.url, status, tryMs);
  }

  private releaseRetrySlot(exchange: Exchange): void {
    if (!exchange.holdsRetrySlot) return;
    exchange.holdsRetrySlot = false;
    this.retryBudget.release();
  }

  private fail(exchange: Exchange, error: unknown): void {
    const exception = toHttpException(error);
    exchange.cause = describeFailure(error);
    exchange.failed = true;
    exchange.status = exception.getStatus();
    exchange.tryOutcome?.finish();
    exchange.next(exception);
  }

  /** Once per request, when its response is done or its client has gone: settles counters and logs. */
  private settle(exchange: Exchange): void {
    const { req, res } = exchange;
    // A client that leaves aborts its upstream request (some transports see to that themselves).
    if (!res.writableFinished) exchange.cancel?.abort();
    this.endAttempt(exchange);
    this.releaseRetrySlot(exchange);
    // An abandoned try reports nothing; end the retry loop here so it does not wait forever.
    exchange.tryOutcome?.finish();
    let status = exchange.status;
    if (exchange.failed) this.metrics.errors++;
    else if (exchange.answered) this.metrics.responses++;
    else {
      // The client left (or broke its deadline) before any backend answered: not a gateway error.
      this.metrics.aborted++;
      if (!exchange.clientFault) status = 499;
      exchange.cause ??= exchange.clientFault ? 'client too slow or malformed' : 'client went away';
    }
    const now = performance.now();
    const durationMs = now - exchange.startedAt;
    const upstreamMs = exchange.answered ? now - exchange.tryStartedAt : undefined;
    this.metrics.requestCompleted({
      backend: exchange.upstream?.url,
      method: req.method ?? 'GET',
      status,
      durationMs,
      upstreamMs,
      retries: exchange.retries,
    });
    this.accessLog.recordProxied(exchange, status, durationMs, upstreamMs);
  }
}
