import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { ProxyServer } from 'httpxy';
import { BalancerService } from '../balancer/balancer.service.js';
import type { Upstream } from '../balancer/upstream.js';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type BackendCounters, MetricsService } from '../metrics/metrics.service.js';
import { AccessLog } from './access-log.js';
import { prepareRequestHeaders, responseHeaders } from './forwarded-headers.js';
import { NoUpstreamAvailableError, toHttpException } from './proxy-errors.js';

type Next = (error?: unknown) => void;

/** What the gateway knows about one proxied request while it is in flight. */
class Exchange {
  readonly startedAt = performance.now();
  upstream: Upstream | undefined;
  backend: BackendCounters | undefined;
  /** A backend's response has started; from here on errors can only cut the connection. */
  answered = false;
  /** The gateway answered this request itself (502, 503, …). */
  failed = false;
  /** The current upstream attempt has not yet been counted as done. */
  attemptOpen = false;
  status = 0;

  constructor(readonly next: Next) {}
}

const EXCHANGE = Symbol('gateway.exchange');
type ProxiedRequest = IncomingMessage & { [EXCHANGE]?: Exchange };

function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return (req as ProxiedRequest)[EXCHANGE];
}

/**
 * Forwards a request to the upstream the balancer picks, through one http-proxy-middleware
 * instance. Hop-by-hop headers are stripped both ways and X-Forwarded-* set; the response is
 * written by us (selfHandleResponse) so status, headers and body pass through as the backend sent
 * them, streamed. Keeps the NestMiddleware signature: errors the gateway must answer go to `next`.
 */
@Injectable()
export class ProxyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly proxy: RequestHandler;
  private readonly countersOf = new Map<Upstream, BackendCounters>();
  private readonly trustProxy: boolean;

  constructor(
    private readonly balancer: BalancerService,
    private readonly metrics: MetricsService,
    private readonly accessLog: AccessLog,
    pool: UpstreamPool,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.trustProxy = config.trustProxy;
    for (const upstream of pool.upstreams) this.countersOf.set(upstream, metrics.backend(upstream.url));
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
    const exchange = new Exchange(next);
    (req as ProxiedRequest)[EXCHANGE] = exchange;
    this.metrics.requests++;
    res.once('close', () => this.settle(req, exchange));
    const upstream = this.balancer.pick();
    if (!upstream) {
      this.fail(exchange, new NoUpstreamAvailableError());
      return;
    }
    prepareRequestHeaders(req.headers, req.socket.remoteAddress ?? '', this.trustProxy);
    this.startAttempt(exchange, upstream);
    void this.proxy(req, res, next);
  }

  private listen(server: ProxyServer<IncomingMessage, ServerResponse>): void {
    server.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res));
    // Without `req` (a target-less call) there is no request of ours to answer.
    server.on('error', (error, req, res) => req && this.onProxyError(error, req, res as ServerResponse));
  }

  private startAttempt(exchange: Exchange, upstream: Upstream): void {
    const backend = this.countersOf.get(upstream)!;
    exchange.upstream = upstream;
    exchange.backend = backend;
    exchange.attemptOpen = true;
    backend.requests++;
    backend.inFlight++;
  }

  /** Closes the current attempt at its backend; `failed` when the backend itself let it down. */
  private endAttempt(exchange: Exchange, failed: boolean): void {
    if (!exchange.attemptOpen) return;
    const backend = exchange.backend!;
    exchange.attemptOpen = false;
    backend.inFlight--;
    if (failed) backend.errors++;
    else if (exchange.answered) backend.responses++;
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req)!;
    exchange.answered = true;
    exchange.status = proxyRes.statusCode ?? 502;
    if (res.destroyed) {
      proxyRes.destroy();
      return;
    }
    res.writeHead(exchange.status, proxyRes.statusMessage, responseHeaders(proxyRes.rawHeaders));
    proxyRes.pipe(res);
  }

  private onProxyError(error: Error, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req);
    if (!exchange || exchange.failed) return;
    if (exchange.answered || res.headersSent) {
      // The backend broke off mid-response: cut the client's connection so a truncated body is
      // never mistaken for a complete one.
      this.endAttempt(exchange, true);
      res.destroy();
      return;
    }
    this.endAttempt(exchange, true);
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
    this.endAttempt(exchange, false);
    let status = exchange.status;
    if (exchange.failed) this.metrics.errors++;
    else if (exchange.answered) this.metrics.responses++;
    else {
      // The client left before any backend answered: nothing was sent, nothing is owed; not a 5xx.
      this.metrics.aborted++;
      status = 499;
    }
    this.accessLog.record(req.method ?? '-', req.url ?? '/', status, exchange.upstream?.url ?? '-', performance.now() - exchange.startedAt);
  }
}
