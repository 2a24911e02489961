import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { ProxyServer } from 'httpxy';
import { BalancerService } from '../balancer/balancer.service.js';
import type { Upstream } from '../balancer/upstream.js';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import type { BreakerAttempt } from '../breaker/upstream-breaker.js';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { GracefulShutdownService } from '../lifecycle/graceful-shutdown.service.js';
import { type BackendCounters, MetricsService } from '../metrics/metrics.service.js';
import { AccessLog } from './access-log.js';
import { prepareRequestHeaders, responseHeaders } from './forwarded-headers.js';
import { isConnectFailure, NoUpstreamAvailableError, toHttpException, UpstreamTimeoutError } from './proxy-errors.js';

type Next = (error?: unknown) => void;

/** A backend answered with a status that means it is in trouble: counts against its breaker. */
class BackendStatusFailure extends Error {
  constructor(readonly status: number) {
    super(`backend answered ${status}`);
  }
}

const BREAKER_FAILURE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** What the gateway knows about one proxied request while it is in flight. */
class Exchange {
  readonly startedAt = performance.now();
  upstream: Upstream | undefined;
  backend: BackendCounters | undefined;
  /** The current attempt's report to its backend's breaker; undefined once it has ended. */
  attempt: BreakerAttempt | undefined;
  /** The outgoing request of the current attempt, to know whether it rode a reused connection. */
  proxyRequest: ClientRequest | undefined;
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
    readonly next: Next,
    /** Nothing to resend: the request can go to another backend if the first cannot be reached. */
    readonly bodiless: boolean,
  ) {}
}

const EXCHANGE = Symbol('gateway.exchange');
type ProxiedRequest = IncomingMessage & { [EXCHANGE]?: Exchange };

function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return (req as ProxiedRequest)[EXCHANGE];
}

function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

/** A pooled keep-alive connection the backend had already closed: nothing was processed. */
function isStaleConnection(error: unknown, proxyRequest: ClientRequest | undefined): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return proxyRequest?.reusedSocket === true && (code === 'ECONNRESET' || code === 'EPIPE');
}

/**
 * Forwards a request to the upstream the balancer picks, through one http-proxy-middleware
 * instance. Hop-by-hop headers are stripped both ways and X-Forwarded-* set; the response is
 * written by us (selfHandleResponse) so status, headers and body pass through as the backend sent
 * them, streamed. Every attempt reports to its backend's circuit breaker; a request without a body
 * whose backend cannot be reached goes to the next available one. Keeps the NestMiddleware
 * signature: errors the gateway must answer go to `next`.
 */
@Injectable()
export class ProxyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly proxy: RequestHandler;
  private readonly countersOf = new Map<Upstream, BackendCounters>();
  private readonly trustProxy: boolean;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly balancer: BalancerService,
    private readonly metrics: MetricsService,
    private readonly accessLog: AccessLog,
    pool: UpstreamPool,
    breakers: CircuitBreakerService,
    private readonly shutdown: GracefulShutdownService,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.trustProxy = config.trustProxy;
    this.writeTimeoutMs = config.writeTimeoutMs;
    for (const upstream of pool.upstreams) this.countersOf.set(upstream, metrics.backend(upstream.url));
    breakers.onStateChange((backend, state) => {
      metrics.backend(backend).state = state;
    });
    this.proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
      // The exchange already holds the upstream; the per-request options copy takes its agent.
      router: (req, _res, options) => {
        const upstream = exchangeOf(req)!.upstream!;
        options.agent = upstream.agent;
        return upstream.target;
      },
      selfHandleResponse: true,
      // hpm's default plugins log and answer errors their own way; ours below replace them.
      ejectPlugins: true,
      plugins: [(server) => this.listen(server)],
    });
  }

  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const exchange = new Exchange(next, hasNoBody(req));
    (req as ProxiedRequest)[EXCHANGE] = exchange;
    this.metrics.requests++;
    res.once('close', () => this.settle(req, exchange));
    const upstream = this.balancer.pick();
    if (!upstream) {
      this.fail(exchange, new NoUpstreamAvailableError());
      return;
    }
    prepareRequestHeaders(req.headers, req.socket.remoteAddress ?? '', this.trustProxy);
    this.forward(req, res, exchange, upstream);
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

  private forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange, upstream: Upstream): void {
    const backend = this.countersOf.get(upstream)!;
    exchange.upstream = upstream;
    exchange.backend = backend;
    exchange.proxyRequest = undefined;
    exchange.attempt = upstream.breaker.begin();
    backend.requests++;
    backend.inFlight++;
    void this.proxy(req, res, exchange.next);
  }

  private listen(server: ProxyServer<IncomingMessage, ServerResponse>): void {
    server.on('proxyReq', (proxyRequest, req, res) => this.onProxyRequest(proxyRequest, req, res));
    server.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res));
    // Without `req` (a target-less call) there is no request of ours to answer.
    server.on('error', (error, req, res) => req && this.onProxyError(error, req, res as ServerResponse));
  }

  private onProxyRequest(proxyRequest: ClientRequest, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req)!;
    exchange.proxyRequest = proxyRequest;
    if (this.writeTimeoutMs > 0) {
      // An idle timeout on the backend's socket: it covers both the wait for the response
      // headers and silence in the middle of a body, and never cuts a download that keeps flowing.
      proxyRequest.setTimeout(this.writeTimeoutMs, () => {
        // A full client buffer means the client is the slow one, not the backend: keep waiting.
        if (exchange.answered && res.writableNeedDrain) return;
        proxyRequest.destroy(new UpstreamTimeoutError(this.writeTimeoutMs));
      });
    }
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

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req)!;
    const status = proxyRes.statusCode ?? 502;
    exchange.answered = true;
    exchange.status = status;
    // The breaker learns the outcome now; the attempt itself stays open until the body is done.
    if (BREAKER_FAILURE_STATUSES.has(status)) exchange.attempt?.fail(new BackendStatusFailure(status));
    else exchange.attempt?.succeed();
    if (res.destroyed) {
      proxyRes.destroy();
      return;
    }
    // A response that was under way when the drain began is its connection's last.
    if (this.shutdown.draining) res.setHeader('connection', 'close');
    res.writeHead(status, proxyRes.statusMessage, responseHeaders(proxyRes.rawHeaders));
    proxyRes.pipe(res);
  }

  private onProxyError(error: Error, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req);
    if (!exchange || exchange.failed) return;
    this.endAttempt(exchange, error);
    if (exchange.answered || res.headersSent) {
      // The backend broke off mid-response: cut the client's connection so a truncated body is
      // never mistaken for a complete one.
      res.destroy();
      return;
    }
    // The client has gone: there is no one to answer or fail over for.
    if (res.destroyed) return;
    if (exchange.bodiless && (isConnectFailure(error) || isStaleConnection(error, exchange.proxyRequest))) {
      (exchange.tried ??= new Set()).add(exchange.upstream!);
      const next = this.balancer.pick(exchange.tried);
      if (next) {
        this.forward(req, res, exchange, next);
        return;
      }
    }
    this.fail(exchange, error);
  }

  private fail(exchange: Exchange, error: unknown): void {
    const exception = toHttpException(error);
    exchange.failed = true;
    exchange.status = exception.getStatus();
    exchange.next(exception);
  }

  /** Once per request, when its response is done or its client has gone: settles counters and logs. */
  private settle(req: IncomingMessage, exchange: Exchange): void {
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
