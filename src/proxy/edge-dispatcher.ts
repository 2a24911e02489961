import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HEALTH_PATHS } from '../health/health.controller.js';
import { METRICS_PATHS } from '../metrics/metrics.controller.js';
import { sendHttpException } from './error-response.js';
import { toHttpException, UnsupportedRequestTargetError } from './proxy-errors.js';
import { ProxyMiddleware } from './proxy.middleware.js';
import { RateLimiter } from './rate-limiter.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The gateway's own endpoints; every other path is proxied. Matched exactly, query aside. */
const OWN_PATHS: ReadonlySet<string> = new Set([...HEALTH_PATHS, ...METRICS_PATHS]);

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The HTTP server's one 'request' listener. The gateway's own endpoints go to Express and Nest's
 * controllers; everything else goes down the proxy pipeline as plain node req/res, because
 * Express's per-request work costs more than the proxying itself.
 */
@Injectable()
export class EdgeDispatcher implements OnApplicationBootstrap {
  private express: RequestListener | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly rateLimiter: RateLimiter,
    private readonly proxy: ProxyMiddleware,
  ) {}

  /** Takes the server's 'request' event over from Express, keeping Express for our own paths. */
  onApplicationBootstrap(): void {
    const adapter = this.adapterHost.httpAdapter;
    const server = adapter.getHttpServer() as Server;
    this.express = adapter.getInstance<RequestListener>();
    server.removeAllListeners('request');
    server.on('request', this.dispatch);
  }

  readonly dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (OWN_PATHS.has(pathOf(url))) {
      this.express!(req, res);
      return;
    }
    if (url.charCodeAt(0) !== 0x2f /* '/' */) {
      sendHttpException(res, new UnsupportedRequestTargetError());
      return;
    }
    void this.forward(req, res);
  };

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await this.rateLimiter.admit(req, res))) return;
    this.proxy.use(req, res, (error?: unknown) => sendHttpException(res, toHttpException(error)));
  }
}
