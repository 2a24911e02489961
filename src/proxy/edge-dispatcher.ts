import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BadRequestException, HttpException, Inject, Injectable, type OnApplicationBootstrap, RequestTimeoutException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { HEALTH_PATHS } from '../health/health.controller.js';
import { GracefulShutdownService } from '../lifecycle/graceful-shutdown.service.js';
import { METRICS_PATHS } from '../metrics/metrics.controller.js';
import { STATUS_PATHS } from '../status/status.controller.js';
import { AccessLog } from './access-log.js';
import { sendHttpException } from './error-response.js';
import { toHttpException, UnsupportedRequestTargetError } from './proxy-errors.js';
import { ProxyMiddleware } from './proxy.middleware.js';
import { RateLimiter } from './rate-limiter.js';
import { identify, identityOf } from './request-identity.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The gateway's own endpoints; every other path is proxied. Matched exactly, query aside. */
const OWN_PATHS: ReadonlySet<string> = new Set([...HEALTH_PATHS, ...METRICS_PATHS, ...STATUS_PATHS]);
/** Every own path starts with one of these: most proxied URLs are ruled out without a lookup. */
const OWN_PATH_PREFIXES = [...new Set([...OWN_PATHS].map((path) => path.slice(0, 3)))];

function isOwnPath(url: string): boolean {
  if (!OWN_PATH_PREFIXES.some((prefix) => url.startsWith(prefix))) return false;
  const query = url.indexOf('?');
  return OWN_PATHS.has(query === -1 ? url : url.slice(0, query));
}

/** What a client gets for an error Node's HTTP parser reports before there is a request object. */
function clientErrorException(error: NodeJS.ErrnoException): HttpException {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutException('The request was not received within --read-timeout');
    case 'HPE_HEADER_OVERFLOW':
      return new HttpException(HttpException.createBody('Request headers too large', 'Request Header Fields Too Large', 431), 431);
    default:
      return new BadRequestException('Malformed HTTP request');
  }
}

/** A complete HTTP/1.1 response for a socket that has no response object. */
function rawErrorResponse(exception: HttpException): string {
  const body = JSON.stringify(exception.getResponse());
  const status = exception.getStatus();
  const reason = (exception.getResponse() as { error?: string }).error ?? '';
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * The HTTP server's one 'request' listener. The gateway's own endpoints go to Express and Nest's
 * controllers; everything else goes down the proxy pipeline as plain node req/res, because
 * Express's per-request work costs more than the proxying itself. It also answers the client
 * errors Node reports on the socket (408 past --read-timeout, 400, 431) in Nest's JSON shape.
 */
@Injectable()
export class EdgeDispatcher implements OnApplicationBootstrap {
  private express: RequestListener | undefined;
  /** False with --admin-listen: the own endpoints live there, and these paths are proxied here. */
  private readonly servesOwnPaths: boolean;
  /** The response in progress on each connection, so a socket-level error never writes into one already started. */
  private readonly responseOn = new WeakMap<Socket, ServerResponse>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly rateLimiter: RateLimiter,
    private readonly proxy: ProxyMiddleware,
    private readonly shutdown: GracefulShutdownService,
    private readonly accessLog: AccessLog,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.servesOwnPaths = config.adminListen === undefined;
  }

  /** Takes the server's 'request' event over from Express, keeping Express for our own paths. */
  onApplicationBootstrap(): void {
    const adapter = this.adapterHost.httpAdapter;
    const server = adapter.getHttpServer() as Server;
    this.express = adapter.getInstance<RequestListener>();
    server.removeAllListeners('request');
    server.on('request', this.dispatch);
    server.on('clientError', this.onClientError);
  }

  readonly dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    this.responseOn.set(req.socket, res);
    // While draining, every response ends its connection so the client reconnects elsewhere.
    if (this.shutdown.draining) res.setHeader('connection', 'close');
    const url = req.url ?? '/';
    if (this.servesOwnPaths && isOwnPath(url)) {
      this.express!(req, res);
      return;
    }
    const startedAt = performance.now();
    const { requestId } = identify(req);
    if (url.charCodeAt(0) !== 0x2f /* '/' */) {
      sendHttpException(res, new UnsupportedRequestTargetError(), { 'x-request-id': requestId });
      this.accessLog.recordRefused(req, 400, 'request target is not a path', startedAt);
      return;
    }
    void this.forward(req, res, startedAt);
  };

  private async forward(req: IncomingMessage, res: ServerResponse, startedAt: number): Promise<void> {
    if (!(await this.rateLimiter.admit(req, res))) {
      this.accessLog.recordRefused(req, 429, 'rate limited', startedAt);
      return;
    }
    this.proxy.use(req, res, (error?: unknown) => {
      if (this.shutdown.draining) res.setHeader('connection', 'close');
      sendHttpException(res, toHttpException(error), { 'x-request-id': identityOf(req).requestId });
    });
  }

  private readonly onClientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const exception = clientErrorException(error);
    const inProgress = this.responseOn.get(socket);
    if (inProgress && !inProgress.writableFinished) {
      if (inProgress.headersSent) {
        // A response is already on the wire; a second status line would corrupt it.
        socket.destroy();
        return;
      }
      this.proxy.recordClientFault(inProgress.req, exception.getStatus());
    }
    socket.end(rawErrorResponse(exception));
  };
}
