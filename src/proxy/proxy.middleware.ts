import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { BalancerService } from '../balancer/balancer.service.js';
import type { Upstream } from '../balancer/upstream.js';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { GracefulShutdownService } from '../lifecycle/graceful-shutdown.service.js';
import { type BackendCounters, MetricsService } from '../metrics/metrics.service.js';
import { attachExchange, Exchange, exchangeOf, type Next } from './exchange.js';
import { keepResponse } from './kept-response.js';
import { NoUpstreamAvailableError, toHttpException } from './proxy-errors.js';
import { ABANDONED, DELIVERED, RequestRecorder, type TryEnd } from './record/request-recorder.js';
import { identify, identityOf } from './request-identity.js';
import { RetryBudget } from './retry/retry-budget.js';
import { RetryLoop, type RetryTarget } from './retry/retry-loop.js';
import { failureKindOf, isIdempotentRequest, RETRIED_STATUSES } from './retry/retry-rules.js';
import { prepareRequestHeaders } from './transport/forwarded-headers.js';
import { readRequestBody } from './transport/request-body.js';
import { type TransportEvents, type UpstreamResponse, UpstreamTransport } from './transport/upstream-transport.js';
import { BackendStatusFailure, describeFailure } from './try-failure.js';

function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

/**
 * The top of the request path. Sends each request to the upstream the balancer picks, through the
 * transport --proxy-engine chose, and passes the backend's response through as it came. A failed
 * try is retried elsewhere when the rules allow (RetryLoop); a backend's error answer that a retry
 * might better is kept meanwhile, so when no retry does, the client gets that answer and not one
 * made up by the gateway. Every try reports to its backend's breaker; counting and logging happen
 * in RequestRecorder. Keeps the NestMiddleware signature: errors the gateway answers go to `next`.
 */
@Injectable()
export class ProxyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse>, TransportEvents, RetryTarget {
  private readonly countersOf = new Map<Upstream, BackendCounters>();
  private readonly trustProxy: boolean;
  private readonly retries: number;
  private readonly retryBufferBytes: number;
  private readonly writeTimeoutMs: number;
  private readonly tryTimeoutMs: number;
  private readonly breakerStatuses: ReadonlySet<number>;
  private readonly retryLoop: RetryLoop;

  constructor(
    private readonly balancer: BalancerService,
    private readonly recorder: RequestRecorder,
    metrics: MetricsService,
    pool: UpstreamPool,
    private readonly shutdown: GracefulShutdownService,
    @Inject(UpstreamTransport) private readonly transport: UpstreamTransport,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.trustProxy = config.trustProxy;
    this.retries = config.retries;
    this.retryBufferBytes = config.retryBufferBytes;
    this.writeTimeoutMs = config.writeTimeoutMs;
    this.tryTimeoutMs = config.tryTimeoutMs ?? config.writeTimeoutMs;
    this.breakerStatuses = config.breakerStatuses;
    this.retryLoop = new RetryLoop(config, new RetryBudget(), this);
    // Registered now, in the configured order, so /metrics lists every backend from the start.
    for (const upstream of pool.upstreams) this.countersOf.set(upstream, metrics.backend(upstream.url));
    transport.reportTo(this);
  }

  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // The dispatcher has usually done this already; a middleware mounted on its own does it here.
    identify(req);
    const exchange = new Exchange(req, res, next, hasNoBody(req), isIdempotentRequest(req.method, req.headers));
    attachExchange(exchange);
    this.recorder.requestStarted();
    this.retryLoop.requestArrived();
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

  /** The dispatcher answered this request's client itself (408 past --read-timeout, 400 malformed). */
  recordClientFault(req: IncomingMessage, status: number): void {
    const exchange = exchangeOf(req);
    if (!exchange || exchange.concluded) return;
    exchange.phase = 'client-fault';
    exchange.status = status;
  }

  upstreamResponded(exchange: Exchange, response: UpstreamResponse): void {
    const { status } = response;
    const breakerFailure = this.breakerStatuses.has(status) ? new BackendStatusFailure(status) : undefined;
    if (RETRIED_STATUSES.has(status) && !exchange.res.destroyed && this.retryLoop.mayRetry(exchange, 'status')) {
      void this.keepThenRetry(exchange, response, breakerFailure);
    } else {
      this.deliver(exchange, response, breakerFailure);
    }
  }

  upstreamFailed(exchange: Exchange, error: Error, staleConnection: boolean): void {
    const { phase, res } = exchange;
    if (phase !== 'trying' && phase !== 'delivering') return; // that try is over already
    this.endTry(exchange, { kind: 'failed', error });
    if (phase === 'delivering') {
      // The backend broke off mid-response: cut the client's connection so a truncated body is
      // never mistaken for a complete one.
      exchange.cause = `backend broke off mid-response: ${describeFailure(error)}`;
      res.destroy();
    } else if (res.destroyed) {
      this.retryLoop.finish(exchange); // the client has gone: no one to answer or retry for
    } else if (this.retryLoop.mayRetry(exchange, staleConnection ? 'reset' : failureKindOf(error))) {
      this.retryLoop.retryAfter(exchange, error);
    } else {
      this.fail(exchange, error);
    }
  }

  /** After the backoff: one more try, on a backend not tried yet when there is one. */
  tryAgain(exchange: Exchange): void {
    (exchange.tried ??= new Set()).add(exchange.upstream!);
    const upstream = this.balancer.pick(exchange.tried) ?? this.balancer.pick();
    if (!upstream) {
      // Every backend left the rotation (at its cap) meanwhile: answer with what the tries met.
      this.fail(exchange, exchange.lastError);
      return;
    }
    exchange.retries++;
    this.recorder.retried();
    this.forward(exchange, upstream);
  }

  giveUp(exchange: Exchange, error: unknown): void {
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

  /**
   * Reads a retryable error answer in full before retrying, so the client gets it if no retry
   * does better (as NGINX and Envoy pass on the last backend response). One too large to hold is
   * passed on now instead.
   */
  private async keepThenRetry(exchange: Exchange, response: UpstreamResponse, breakerFailure: Error | undefined): Promise<void> {
    exchange.phase = 'keeping';
    const keeping = await keepResponse(response);
    if (exchange.res.destroyed) return; // settle() has ended the try
    if ('tooLarge' in keeping) {
      this.deliver(exchange, keeping.tooLarge, breakerFailure);
    } else if ('broken' in keeping) {
      this.endTry(exchange, { kind: 'failed', error: keeping.broken });
      this.retryLoop.retryAfter(exchange, keeping.broken);
    } else {
      if (breakerFailure) exchange.attempt?.fail(breakerFailure);
      this.endTry(exchange, { kind: 'retried', status: response.status });
      exchange.kept = keeping.kept;
      this.retryLoop.retryAfter(exchange, breakerFailure ?? new BackendStatusFailure(response.status));
    }
  }

  /** Sends one try to `upstream`. */
  private forward(exchange: Exchange, upstream: Upstream): void {
    exchange.phase = 'trying';
    exchange.upstream = upstream;
    exchange.backend = this.countersOf.get(upstream)!;
    exchange.attempt = upstream.breaker.begin();
    exchange.releaseSlot = upstream.cap?.occupy();
    exchange.tryStartedAt = performance.now();
    exchange.tryTimeoutMs = this.writeTimeoutMs > 0 ? Math.min(this.tryTimeoutMs, this.writeTimeoutMs - exchange.triedMs) : this.tryTimeoutMs;
    this.recorder.tryStarted(exchange);
    this.transport.send(exchange);
  }

  /** Ends the current try: closes its breaker attempt (a failure counts there) and gives back its slot. */
  private endTry(exchange: Exchange, end: TryEnd): void {
    const attempt = exchange.attempt;
    if (!attempt) return;
    exchange.attempt = undefined;
    exchange.releaseSlot?.();
    exchange.releaseSlot = undefined;
    if (end.kind === 'failed') attempt.fail(end.error);
    else if (end.kind === 'abandoned') attempt.abandon();
    else attempt.succeed(); // a retried status was reported when it was read; this is then a no-op
    const tryMs = performance.now() - exchange.tryStartedAt;
    exchange.triedMs += tryMs;
    this.recorder.tryEnded(exchange, end, tryMs);
  }

  /**
   * Passes a backend's response on. Its breaker learns the outcome now (a status in
   * --breaker-statuses counts against it); the try stays open until the body is done.
   */
  private deliver(exchange: Exchange, response: UpstreamResponse, breakerFailure: Error | undefined): void {
    const { res } = exchange;
    if (breakerFailure) exchange.attempt?.fail(breakerFailure);
    else exchange.attempt?.succeed();
    exchange.kept = undefined;
    exchange.phase = 'delivering';
    exchange.status = response.status;
    this.retryLoop.finish(exchange);
    if (res.destroyed) {
      response.body.destroy();
      return;
    }
    res.writeHead(response.status, response.statusMessage, this.withResponseHeaders(exchange, response.headers));
    response.body.pipe(res);
  }

  /** The gateway has nothing better than what the tries met: the kept backend answer, or its own. */
  private fail(exchange: Exchange, error: unknown): void {
    const { kept, res } = exchange;
    this.retryLoop.finish(exchange);
    if (kept) {
      exchange.phase = 'delivering';
      exchange.status = kept.status;
      exchange.cause = `${describeFailure(error)} on the last try; passed on the backend's ${kept.status} from an earlier one`;
      if (res.destroyed) return;
      res.writeHead(kept.status, kept.statusMessage, this.withResponseHeaders(exchange, kept.headers));
      res.end(kept.body);
      return;
    }
    const exception = toHttpException(error);
    exchange.phase = 'answered-by-gateway';
    exchange.failure = error;
    exchange.status = exception.getStatus();
    exchange.cause = describeFailure(error);
    exchange.next(exception);
  }

  /** Adds what the gateway adds to every proxied response: the request id, and `Connection: close` while draining. */
  private withResponseHeaders<T extends string[] | Record<string, unknown>>(exchange: Exchange, headers: T): T {
    // A response that was under way when the drain began is its connection's last.
    if (this.shutdown.draining) exchange.res.setHeader('connection', 'close');
    const requestId = identityOf(exchange.req).requestId;
    if (Array.isArray(headers)) headers.push('x-request-id', requestId);
    else (headers as Record<string, unknown>)['x-request-id'] = requestId;
    return headers;
  }

  /** Once per request, when its response is done or its client has gone. */
  private settle(exchange: Exchange): void {
    // A client that leaves aborts its upstream request (some transports see to that themselves).
    if (!exchange.res.writableFinished) exchange.cancel?.abort();
    this.endTry(exchange, exchange.answered ? DELIVERED : ABANDONED);
    // An abandoned try reports nothing; end the retry loop here so it does not wait forever.
    this.retryLoop.finish(exchange);
    this.recorder.settled(exchange);
  }
}
