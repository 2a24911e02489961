import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import { type HttpException, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { GracefulShutdownService } from '../../lifecycle/graceful-shutdown.service.js';
import { isOwnPath } from '../../own-paths.js';
import { ApiKeyGate } from '../auth/api-key-gate.js';
import { ClientCertificates, UNVERIFIED } from '../auth/client-certificates.js';
import { Consumer } from '../auth/consumer.js';
import { Router } from '../../routing/router.js';
import { ClientProtocolError, FaultyFramingError, FragmentInTargetError, InvalidHostError, NoRouteError, PathAboveRootError, UnsupportedHttpVersionError, UnverifiedClientCertificateError, toHttpException, UnsupportedRequestTargetError } from '../proxy-errors.js';
import { ProxyMiddleware } from '../proxy.middleware.js';
import { WebSocketTunnels } from '../transport/websocket-tunnels.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { AccessLog } from '../record/access-log.js';
import { identify, type IdentityOptions, requestIdHeader } from '../request-identity.js';
import { ClientAddressResolver } from './client-address.js';
import { withoutDotSegments } from './dot-segments.js';
import { rawErrorResponse, sendHttpException } from './error-response.js';
import { HostHeaderCheck } from './host-header.js';
import { watchFirstRequestLine } from './http09-request-line.js';
import { OwnEndpoints } from './own-endpoints.js';
import { SecurityHeaders } from './security-headers.js';
import { RequestRules } from './request-rules.js';

/** What receives a request that passed every check: the proxy, or a WebSocket tunnel. */
type Forward = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The HTTP server's one 'request' listener. The gateway's own endpoints go to Express and Nest's
 * controllers; everything else goes down the proxy pipeline as plain node req/res, because
 * Express's per-request work costs more than the proxying itself. It also answers the client
 * errors Node reports on the socket (408 past --read-timeout, 400, 431) in Nest's JSON shape.
 */
@Injectable()
export class EdgeDispatcher implements OnApplicationBootstrap {
  /** False with --admin-listen: the own endpoints live there, and these paths are proxied here. */
  private readonly servesOwnPaths: boolean;
  private readonly identityOptions: IdentityOptions;
  /** The response in progress on each connection, so a socket-level error never writes into one already started. */
  private readonly responseOn = new WeakMap<Socket, ServerResponse>();
  /** Open client connections, to mark the responses in progress when a drain begins. */
  private readonly connections = new Set<Socket>();
  /**
   * Connections the gateway has decided to close (RFC 9112 §9.6): a request read on one after that
   * decision (pipelined behind it) is never forwarded, since its answer could never be sent.
   */
  private readonly closing = new WeakSet<Socket>();
  /** Connections whose bytes Node's parser refused: answered once, whatever it reports after. */
  private readonly faulted = new WeakSet<Socket>();
  /** Requests that sent `Expect: 100-continue` and are still waiting for the go-ahead. */
  private readonly awaitingContinue = new WeakSet<IncomingMessage>();
  private readonly hostCheck = new HostHeaderCheck();
  private readonly rules: RequestRules;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly ownEndpoints: OwnEndpoints,
    private readonly rateLimiter: RateLimiter,
    private readonly proxy: ProxyMiddleware,
    private readonly shutdown: GracefulShutdownService,
    private readonly accessLog: AccessLog,
    private readonly clients: ClientAddressResolver,
    private readonly security: SecurityHeaders,
    private readonly clientCertificates: ClientCertificates,
    private readonly apiKeyGate: ApiKeyGate,
    private readonly tunnels: WebSocketTunnels,
    private readonly router: Router,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.servesOwnPaths = config.adminListen === undefined;
    this.rules = new RequestRules(config);
    this.identityOptions = { requestIds: config.requestIds, traceContext: config.traceContext };
  }

  /** Takes the server's 'request' event over from Express, keeping Express for our own paths. */
  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.removeAllListeners('request');
    server.on('request', this.dispatch);
    server.on('clientError', this.onClientError);
    // Requests with `Expect: 100-continue` come here instead of 'request', so 100 Continue is sent
    // only to a request about to be forwarded: a refused one (413, 405, 429…) gets its answer instead
    // and the client never sends the body (Node would send 100 Continue to every one).
    server.on('checkContinue', this.dispatchExpectingContinue);
    // Node hands CONNECT (a tunnel request, for forward proxies) to this event, not to 'request'.
    server.on('connect', this.refuseConnect);
    server.on('upgrade', this.dispatchUpgrade);
    // Over TLS the HTTP parser sits on the TLS socket, which 'secureConnection' hands over.
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
      watchFirstRequestLine(socket, this.refuseHttp09);
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    this.shutdown.onDrainStart(() => {
      for (const socket of this.connections) {
        const res = this.responseOn.get(socket);
        if (res && !res.headersSent) this.closesItsConnection(res);
      }
    });
  }

  readonly dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res, this.forward);
  };

  /**
   * A WebSocket upgrade (Node hands only those to 'upgrade': see GatewayHttpAdapter): checked,
   * authenticated and rate-limited as any request, on a response made over its socket, then tunnelled.
   */
  private readonly dispatchUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const res = new ServerResponse(req);
    // A refusal ends the connection: after an upgrade request nothing more is read as HTTP.
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => socket.destroySoon());
    this.route(req, res, (admitted: IncomingMessage) => {
      this.proxy.prepareHeaders(admitted);
      this.tunnels.connect(admitted, res, socket, head);
    });
  };

  /** Every check a request passes before `forward` gets it; the refusals are answered here. */
  private route(req: IncomingMessage, res: ServerResponse, forward: Forward): void {
    // Read behind a response that closes the connection: left unanswered, and gone with the close.
    if (this.closing.has(req.socket)) return;
    this.responseOn.set(req.socket, res);
    // Node's parser stops at bytes after such a request, but --insecure-http-parser would read them.
    if (!res.shouldKeepAlive) this.closing.add(req.socket);
    if (this.shutdown.draining) this.closesItsConnection(res);
    if (req.httpVersionMajor !== 1) {
      this.refuseAndClose(req, res, new UnsupportedHttpVersionError(), performance.now());
      return;
    }
    if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) {
      this.refuseAndClose(req, res, new FaultyFramingError(), performance.now());
      return;
    }
    if (!this.hostCheck.isValid(req)) {
      this.refuseAndClose(req, res, new InvalidHostError(), performance.now());
      return;
    }
    const url = req.url ?? '/';
    if (this.servesOwnPaths && isOwnPath(url)) {
      this.ownEndpoints.serve(req, res);
      return;
    }
    const startedAt = performance.now();
    identify(req, this.identityOptions);
    this.clients.readForwardedClient(req);
    if (url.charCodeAt(0) !== 0x2f /* '/' */) {
      this.refuse(req, res, new UnsupportedRequestTargetError(), startedAt);
      return;
    }
    // A backend that drops a fragment would resolve the dot segments before it (`/..#x`), past the check below.
    if (url.includes('#')) {
      this.refuseAndClose(req, res, new FragmentInTargetError(), startedAt);
      return;
    }
    // Before anything reads the path (limits, routing, the backend's prefix): the backend always gets one under its prefix.
    const target = withoutDotSegments(url);
    if (target === undefined) {
      this.refuseAndClose(req, res, new PathAboveRootError(), startedAt);
      return;
    }
    if (target !== url) req.url = target;
    if (this.clientCertificates.enabled && this.clientCertificates.of(req.socket as TLSSocket) === UNVERIFIED) {
      this.refuse(req, res, new UnverifiedClientCertificateError(), startedAt, { 'www-authenticate': 'ClientCertificate' });
      return;
    }
    const ruleRefusal = this.rules.refusalOf(req);
    if (ruleRefusal) {
      if (ruleRefusal.closes) this.refuseAndClose(req, res, ruleRefusal.exception, startedAt, ruleRefusal.headers);
      else this.refuse(req, res, ruleRefusal.exception, startedAt, ruleRefusal.headers);
      return;
    }
    // Before keys and limits, as Kong does: a request no route serves is 404 whoever sends it.
    const routed = this.router.route(req);
    if (!routed) {
      this.refuse(req, res, new NoRouteError(), startedAt);
      return;
    }
    const consumer = this.apiKeyGate.check(req);
    if (consumer !== undefined && !(consumer instanceof Consumer)) {
      this.refuse(req, res, consumer.exception, startedAt, consumer.headers);
      return;
    }
    const refusal = this.rateLimiter.admit(req, res, consumer, routed.route);
    if (refusal === undefined) forward(req, res);
    else if (refusal instanceof Promise) void refusal.then((refused) => (refused ? this.accessLog.recordRefused(req, refused, startedAt) : forward(req, res)));
    else this.accessLog.recordRefused(req, refusal, startedAt);
  }

  private readonly dispatchExpectingContinue = (req: IncomingMessage, res: ServerResponse): void => {
    this.awaitingContinue.add(req);
    this.dispatch(req, res);
  };

  /** The gateway's own answer to a request it will not forward, with its request id, logged like any other. */
  private refuse(req: IncomingMessage, res: ServerResponse, refusal: HttpException, startedAt: number, headers?: Record<string, string>): void {
    // Idempotent: the refusals made before the dispatcher identified the request get their id here.
    identify(req, this.identityOptions);
    sendHttpException(res, refusal, { ...this.security.own, ...requestIdHeader(req), ...headers });
    this.accessLog.recordRefused(req, refusal, startedAt);
  }

  /** A request that breaks the protocol's rules: refused, and nothing more is read from its connection. */
  private refuseAndClose(req: IncomingMessage, res: ServerResponse, refusal: HttpException, startedAt: number, headers?: Record<string, string>): void {
    this.closesItsConnection(res);
    this.refuse(req, res, refusal, startedAt, headers);
  }

  /**
   * This response ends its connection, and nothing read on it after this request is forwarded. For
   * requests that break the rules, and for every response unwritten while the gateway drains (so the
   * client reconnects elsewhere; one already under way ends and is then closed as idle).
   */
  private closesItsConnection(res: ServerResponse): void {
    res.setHeader('connection', 'close');
    this.closing.add(res.req.socket);
  }

  private readonly forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.awaitingContinue.delete(req)) res.writeContinue();
    this.proxy.use(req, res, (error?: unknown) => {
      sendHttpException(res, toHttpException(error), { ...this.security.own, ...requestIdHeader(req) });
    });
  };

  private readonly onClientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // The parser reports each chunk read after its error again; the first report decided.
    if (this.faulted.has(socket)) return;
    this.faulted.add(socket);
    this.closing.add(socket);
    const exception = toHttpException(new ClientProtocolError(error));
    const inProgress = this.responseOn.get(socket);
    if (!inProgress || inProgress.writableFinished) {
      socket.end(rawErrorResponse(exception, this.security.own));
    } else if (inProgress.req.complete) {
      // The fault is in what came after a request read in full and forwarded: its answer goes out whole first.
      this.endAfter(inProgress, socket, exception);
    } else if (inProgress.headersSent) {
      // A response is already on the wire; a second status line would corrupt it.
      socket.destroy();
    } else {
      // The fault is in this request's own body (or its deadline): it gets the refusal as its answer,
      // through its response, so the answers to requests pipelined before it still go out first.
      this.proxy.recordClientFault(inProgress.req, exception.getStatus());
      this.closesItsConnection(inProgress);
      sendHttpException(inProgress, exception, { ...this.security.own, ...requestIdHeader(inProgress.req) });
    }
  };

  private readonly refuseConnect = (_req: IncomingMessage, socket: Socket): void => {
    const { exception, headers } = this.rules.methodRefusal('CONNECT');
    socket.end(rawErrorResponse(exception, { ...this.security.own, ...headers }));
  };

  /** An HTTP/0.9 request line, which Node's parser would hold until --read-timeout: 505 at once, as to HTTP/2.0. */
  private readonly refuseHttp09 = (socket: Socket): void => {
    this.closing.add(socket);
    socket.end(rawErrorResponse(new UnsupportedHttpVersionError(), this.security.own));
  };

  /** Ends the connection once `res` is sent: with the refusal when that response kept it open, else Node closes it. */
  private endAfter(res: ServerResponse, socket: Socket, exception: HttpException): void {
    res.once('finish', () => {
      if (!socket.writableEnded && !socket.destroyed) socket.end(rawErrorResponse(exception, this.security.own));
    });
  }
}
