import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
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
import { isConnectFailure, NoUpstreamAvailableError, toHttpException } from './proxy-errors.js';
import { type TransportEvents, type UpstreamResponse, UpstreamTransport } from './transport/upstream-transport.js';

/** A backend answered with a status that means it is in trouble: counts against its breaker. */
class BackendStatusFailure extends Error {
  constructor(readonly status: number) {
    super(`backend answered ${status}`);
  }
}

const BREAKER_FAILURE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

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
    for (const upstream of pool.upstreams) this.countersOf.set(upstream, metrics.backend(upstream.url));
    breakers.onStateChange((backend, state) => {
      metrics.backend(backend).state = state;
    });
    transport.reportTo(this);
  }

  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const exchange = new Exchange(req, res, next, hasNoBody(req));
    attachExchange(exchange);
    this.metrics.requests++;
    res.once('close', () => this.settle(exchange));
    const upstream = this.balancer.pick();
    if (!upstream) {
      this.fail(exchange, new NoUpstreamAvailableError());
      return;
    }
    prepareRequestHeaders(req.headers, req.socket.remoteAddress ?? '', this.trustProxy);
    this.forward(exchange, upstream);
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
    const { res } = exchange;
    exchange.answered = true;
    exchange.status = response.status;
    // The breaker learns the outcome now; the attempt itself stays open until the body is done.
    if (BREAKER_FAILURE_STATUSES.has(response.status)) exchange.attempt?.fail(new BackendStatusFailure(response.status));
    else exchange.attempt?.succeed();
    if (res.destroyed) {
      response.body.destroy();
      return;
    }
    // A response that was under way when the drain began is its connection's last.
    if (this.shutdown.draining) res.setHeader('connection', 'close');
    res.writeHead(response.status, response.statusMessage, response.headers);
    response.body.pipe(res);
  }

  upstreamFailed(exchange: Exchange, error: Error, staleConnection: boolean): void {
    const { res } = exchange;
    if (exchange.failed) return;
    this.endAttempt(exchange, error);
    if (exchange.answered || res.headersSent) {
      // The backend broke off mid-response: cut the client's connection so a truncated body is
      // never mistaken for a complete one.
      res.destroy();
      return;
    }
    // The client has gone: there is no one to answer or fail over for.
    if (res.destroyed) return;
    if (exchange.bodiless && (isConnectFailure(error) || staleConnection)) {
      (exchange.tried ??= new Set()).add(exchange.upstream!);
      const next = this.balancer.pick(exchange.tried);
      if (next) {
        this.forward(exchange, next);
        return;
      }
    }
    this.fail(exchange, error);
  }

  private forward(exchange: Exchange, upstream: Upstream): void {
    const backend = this.countersOf.get(upstream)!;
    exchange.upstream = upstream;
    exchange.backend = backend;
    exchange.attempt = upstream.breaker.begin();
    backend.requests++;
    backend.inFlight++;
    this.transport.send(exchange);
  }

  /** Closes the current attempt; `failure` counts against its backend and its breaker. */
  private endAttempt(exchange: Exchange, failure?: unknown): void {
    const attempt = exchange.attempt;
    if (!attempt) return;
    exchange.attempt = undefined;
    const backend = exchange.backend!;
    backend.inFlight--;
    if (failure !== undefined) {
      backend.errors++;
      attempt.fail(failure);
    } else if (exchange.answered) {
      backend.responses++;
    } else {
      attempt.abandon();
    }
  }

  private fail(exchange: Exchange, error: unknown): void {
    const exception = toHttpException(error);
    exchange.failed = true;
    exchange.status = exception.getStatus();
    exchange.next(exception);
  }

  /** Once per request, when its response is done or its client has gone: settles counters and logs. */
  private settle(exchange: Exchange): void {
    const { req, res } = exchange;
    // A client that leaves aborts its upstream request (some transports see to that themselves).
    if (!res.writableFinished) exchange.cancel?.abort();
    this.endAttempt(exchange);
    let status = exchange.status;
    if (exchange.failed) this.metrics.errors++;
    else if (exchange.answered) this.metrics.responses++;
    else {
      // The client left (or broke its deadline) before any backend answered: not a gateway error.
      this.metrics.aborted++;
      if (!exchange.clientFault) status = 499;
    }
    this.accessLog.record({
      method: req.method ?? '-',
      url: req.url ?? '/',
      status,
      backend: exchange.upstream?.url ?? '-',
      durationMs: performance.now() - exchange.startedAt,
    });
  }
}
