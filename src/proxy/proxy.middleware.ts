import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { BalancerService } from '../balancer/balancer.service.js';
import { BalanceHintReader } from './balance-hints.js';
import { ClientCertificates } from './auth/client-certificates.js';
import type { Upstream } from '../balancer/upstream.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { attachExchange, Exchange, exchangeOf, type Next } from './exchange.js';
import { keepResponse } from './kept-response.js';
import { BodyTooLargeError, NoRouteError, NoUpstreamAvailableError, toHttpException } from './proxy-errors.js';
import { Router } from '../routing/router.js';
import { ABANDONED, DELIVERED, RequestRecorder } from './record/request-recorder.js';
import { identify, type IdentityOptions } from './request-identity.js';
import { ResponseWriter } from './response-writer.js';
import { RetryBudget } from './retry/retry-budget.js';
import { RetryLoop, type RetryTarget } from './retry/retry-loop.js';
import { failureKindOf, isIdempotentRequest, RETRIED_STATUSES } from './retry/retry-rules.js';
import { prepareRequestHeaders } from './transport/forwarded-headers.js';
import { BodySizeLimit } from './transport/body-size-limit.js';
import { hasNoBody, readRequestBody } from './transport/request-body.js';
import { type TransportEvents, type UpstreamResponse, UpstreamTransport } from './transport/upstream-transport.js';
import { BackendStatusFailure, describeFailure } from './try-failure.js';
import { UpstreamTries } from './upstream-tries.js';
import { TrustedPeers } from './edge/trusted-peers.js';

/**
 * The top of the request path. Sends each request to the upstream the balancer picks, through the
 * transport --proxy-engine chose, and passes the backend's answer through as it came. A failed try
 * is retried elsewhere when the rules allow (RetryLoop); an error answer a retry might better is
 * kept meanwhile, so that when none does the client gets it, not one made up by the gateway (which
 * answers itself only when no try got an answer, through `next`: the NestMiddleware signature).
 */
@Injectable()
export class ProxyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse>, TransportEvents, RetryTarget {
  private readonly trustedPeers: TrustedPeers;
  private readonly retryBufferBytes: number;
  private readonly maxBodyBytes: number;
  private readonly retryLoop: RetryLoop;
  private readonly identityOptions: IdentityOptions;

  constructor(
    private readonly balancer: BalancerService,
    private readonly tries: UpstreamTries,
    private readonly writer: ResponseWriter,
    private readonly recorder: RequestRecorder,
    @Inject(UpstreamTransport) private readonly transport: UpstreamTransport,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly clientCertificates: ClientCertificates,
    private readonly router: Router,
    private readonly hints: BalanceHintReader,
  ) {
    this.trustedPeers = new TrustedPeers(config.trustProxy);
    this.retryBufferBytes = config.retryBufferBytes;
    this.maxBodyBytes = config.maxBodyBytes;
    this.retryLoop = new RetryLoop(config, new RetryBudget(), this);
    this.identityOptions = { requestIds: config.requestIds, traceContext: config.traceContext };
    transport.reportTo(this);
  }

  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // The dispatcher has usually done this already; a middleware mounted on its own does it here.
    identify(req, this.identityOptions);
    const exchange = new Exchange(req, res, next, hasNoBody(req), isIdempotentRequest(req.method, req.headers));
    attachExchange(exchange);
    this.recorder.requestStarted();
    this.retryLoop.requestArrived();
    res.on('close', this.settleOnClose);
    // Matched again (nanoseconds for one route): the dispatcher answered a 404 already; mounted on its own, this does.
    const routed = this.router.route(req);
    if (!routed) return this.fail(exchange, new NoRouteError());
    const service = (exchange.service = routed.service);
    exchange.target = this.router.targetOf(routed, req.url ?? '/');
    exchange.hashKey = this.hints.hashKeyOf(service, req);
    exchange.stickyTo = this.hints.stickyValueOf(service, req);
    const upstream = this.balancer.pick(service, exchange);
    if (!upstream) return this.fail(exchange, new NoUpstreamAvailableError());
    this.prepareHeaders(req);
    if (exchange.bodiless) {
      this.forward(exchange, upstream);
    } else if (service.settings.retries === 0) {
      exchange.body = { replay: 'streamed', stream: this.bodyOf(exchange) };
      this.forward(exchange, upstream);
    } else {
      void this.readBodyThenForward(exchange, upstream);
    }
  }

  /**
   * The request's body as it goes upstream. A declared Content-Length over --max-body-size was
   * refused before this; a chunked body is counted as it streams.
   */
  private bodyOf(exchange: Exchange): Readable {
    const { req } = exchange;
    if (this.maxBodyBytes === 0 || req.headers['transfer-encoding'] === undefined) return req;
    return req.pipe(new BodySizeLimit(this.maxBodyBytes, () => this.refuseTooLargeBody(exchange)));
  }

  /** A chunked body passed --max-body-size: the upstream request stops short, the client gets 413 and the connection closes. */
  private refuseTooLargeBody(exchange: Exchange): void {
    // Node's client (http-proxy-middleware) would wait for the rest; undici also sees the body fail.
    exchange.cancel?.abort();
    exchange.cause = `request body over --max-body-size (${this.maxBodyBytes} bytes)`;
    if (exchange.phase === 'delivering') {
      // The backend answered before the body was done; a 413 can no longer be sent, so cut the answer.
      exchange.res.destroy();
      return;
    }
    this.retryLoop.finish(exchange);
    const refusal = new BodyTooLargeError(this.maxBodyBytes);
    exchange.phase = 'client-fault';
    exchange.status = refusal.getStatus();
    exchange.failure = refusal;
    if (!exchange.res.headersSent) exchange.res.setHeader('connection', 'close');
    exchange.next(refusal);
  }

  /** The request's headers as the backend gets them: hop-by-hop ones gone, X-Forwarded-*, the client certificate's. */
  prepareHeaders(req: IncomingMessage): void {
    const peer = req.socket.remoteAddress ?? '';
    const tls = (req.socket as TLSSocket).encrypted === true;
    prepareRequestHeaders(req.headers, peer, this.trustedPeers.peerIsTrusted(peer), tls ? 'https' : 'http');
    this.clientCertificates.stamp(req.headers, req.socket as TLSSocket);
  }

  /** The dispatcher answered this request's client itself (408 past --read-timeout, 400 malformed). */
  recordClientFault(req: IncomingMessage, status: number): void {
    const exchange = exchangeOf(req);
    if (!exchange || exchange.concluded) return;
    exchange.phase = 'client-fault';
    exchange.status = status;
    // Its body will never be whole: the backend must not take what it got for a complete request.
    exchange.cancel?.abort();
    this.retryLoop.finish(exchange);
  }

  upstreamResponded(exchange: Exchange, response: UpstreamResponse): void {
    if (exchange.phase === 'client-fault') {
      response.body.destroy(); // the client was answered already (400, 408, 413)
      return;
    }
    const breakerFailure = exchange.service!.settings.breaker.statuses.has(response.status) ? new BackendStatusFailure(response.status) : undefined;
    if (RETRIED_STATUSES.has(response.status) && !exchange.res.destroyed && this.retryLoop.mayRetry(exchange, 'status')) {
      void this.keepThenRetry(exchange, response, breakerFailure);
    } else {
      this.deliver(exchange, response, breakerFailure);
    }
  }

  upstreamFailed(exchange: Exchange, error: Error, staleConnection: boolean): void {
    const { phase, res } = exchange;
    if (phase !== 'trying' && phase !== 'delivering') return; // that try is over already
    this.tries.end(exchange, { kind: 'failed', error });
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
    const service = exchange.service!;
    const upstream = this.balancer.pick(service, exchange, exchange.tried) ?? this.balancer.pick(service, exchange);
    // None: every backend is at its cap now, so answer with what the tries met.
    if (!upstream) return this.fail(exchange, exchange.lastError);
    exchange.retries++;
    this.recorder.retried();
    this.forward(exchange, upstream);
  }

  giveUp(exchange: Exchange, error: unknown): void {
    this.fail(exchange, error);
  }

  /** Reads a body that may have to be sent again into memory (up to --retry-buffer), then sends it. */
  private async readBodyThenForward(exchange: Exchange, upstream: Upstream): Promise<void> {
    try {
      exchange.body = await readRequestBody(exchange.req, this.retryBufferBytes, this.bodyOf(exchange));
    } catch {
      return; // the client went away mid-body; settle() accounts for it
    }
    // Not if the client went away, or the body was refused (413) while it was read.
    if (!exchange.res.destroyed && exchange.phase === 'receiving') this.forward(exchange, upstream);
  }

  private forward(exchange: Exchange, upstream: Upstream): void {
    this.tries.start(exchange, upstream);
    this.transport.send(exchange);
  }

  /** Reads a retryable error answer in full before retrying; one too large to hold is passed on instead. */
  private async keepThenRetry(exchange: Exchange, response: UpstreamResponse, breakerFailure: Error | undefined): Promise<void> {
    exchange.phase = 'keeping';
    const keeping = await keepResponse(response);
    if (exchange.res.destroyed) return; // settle() has ended the try
    if ('tooLarge' in keeping) {
      this.deliver(exchange, keeping.tooLarge, breakerFailure);
    } else if ('broken' in keeping) {
      this.tries.end(exchange, { kind: 'failed', error: keeping.broken });
      this.retryLoop.retryAfter(exchange, keeping.broken);
    } else {
      if (breakerFailure) exchange.attempt?.fail(breakerFailure);
      this.tries.end(exchange, { kind: 'retried', status: response.status });
      exchange.kept = keeping.kept;
      exchange.keptFrom = exchange.upstream;
      this.retryLoop.retryAfter(exchange, breakerFailure ?? new BackendStatusFailure(response.status));
    }
  }

  /** Passes a backend's answer on; its breaker learns the outcome now, the try stays open until the body is done. */
  private deliver(exchange: Exchange, response: UpstreamResponse, breakerFailure: Error | undefined): void {
    if (breakerFailure) exchange.attempt?.fail(breakerFailure);
    else exchange.attempt?.succeed();
    exchange.kept = undefined;
    exchange.phase = 'delivering';
    exchange.status = response.status;
    this.retryLoop.finish(exchange);
    this.writer.stream(exchange, response);
  }

  /** No try brought an answer the client can use: the kept backend answer if there is one, else the gateway's own. */
  private fail(exchange: Exchange, error: unknown): void {
    this.retryLoop.finish(exchange);
    const { kept } = exchange;
    if (kept) {
      exchange.phase = 'delivering';
      exchange.status = kept.status;
      exchange.cause = `${describeFailure(error)} on the last try; passed on the backend's ${kept.status} from an earlier one`;
      this.writer.kept(exchange, kept);
      return;
    }
    const exception = toHttpException(error);
    exchange.phase = 'answered-by-gateway';
    exchange.failure = error;
    exchange.status = exception.getStatus();
    exchange.cause = describeFailure(error);
    exchange.next(exception);
  }

  /** One 'close' listener for every request rather than a closure each ('close' comes once); the request leads to its exchange. */
  private readonly settleOnClose = ((self: ProxyMiddleware) => function (this: ServerResponse) { self.settle(exchangeOf(this.req)!); })(this);

  /** Once per request, when its response is done or its client has gone. */
  private settle(exchange: Exchange): void {
    // A client that leaves aborts its upstream request (some transports see to that themselves).
    if (!exchange.res.writableFinished) exchange.cancel?.abort();
    this.tries.end(exchange, exchange.answered ? DELIVERED : ABANDONED);
    // An abandoned try reports nothing; end the retry loop here so it does not wait forever.
    this.retryLoop.finish(exchange);
    this.recorder.settled(exchange);
  }
}
