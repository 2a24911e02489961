import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { RootLogger } from '../logging/root-logger.js';
import type { Exchange } from './exchange.js';
import { unmapIpv4 } from './forwarded-headers.js';
import { identityOf } from './request-identity.js';

/** Socket byte counts at the end of the previous request on the same connection. */
const READ_BEFORE = Symbol('gateway.readBefore');
const WRITTEN_BEFORE = Symbol('gateway.writtenBefore');
type CountedSocket = Socket & { [READ_BEFORE]?: number; [WRITTEN_BEFORE]?: number };

/**
 * Bytes this request read on its connection, headers included (as NGINX's $request_length): the
 * socket's count since the previous request on it ended. `bytesOut` (after) must follow.
 */
function bytesIn(socket: CountedSocket): number {
  const read = socket.bytesRead;
  const moved = read - (socket[READ_BEFORE] ?? 0);
  socket[READ_BEFORE] = read;
  return moved;
}

/** Bytes this request wrote on its connection, headers included (as NGINX's $bytes_sent). */
function bytesOut(socket: CountedSocket): number {
  const written = socket.bytesWritten;
  const moved = written - (socket[WRITTEN_BEFORE] ?? 0);
  socket[WRITTEN_BEFORE] = written;
  return moved;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** How a request went, as the log line says it. */
interface Outcome {
  readonly status: number;
  readonly backend: string | null;
  readonly upstreamMs: number | null;
  readonly ms: number;
  readonly retries: number;
  readonly cause: string | null;
}

/**
 * One JSON line per request the gateway answered on its proxy path, through the shared pino logger
 * (asynchronous: logging never blocks the event loop). `--access-log=false` turns it off; lines are
 * at level info.
 */
@Injectable()
export class AccessLog {
  private readonly logger: Logger | undefined;
  private readonly trustProxy: boolean;

  constructor(root: RootLogger, @Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.logger = config.accessLog ? root.pino : undefined;
    this.trustProxy = config.trustProxy;
  }

  /** A proxied request is over. `upstreamMs` is undefined when no backend answered. */
  recordProxied(exchange: Exchange, status: number, durationMs: number, upstreamMs: number | undefined): void {
    this.write(exchange.req, 'request completed', {
      status,
      backend: exchange.upstream?.url ?? null,
      upstreamMs: upstreamMs === undefined ? null : round(upstreamMs),
      ms: round(durationMs),
      retries: exchange.retries,
      cause: exchange.cause ?? null,
    });
  }

  /** A request the gateway answered before proxying it (429 rate limited, 400 bad target). */
  recordRefused(req: IncomingMessage, status: number, cause: string, startedAt: number): void {
    this.write(req, 'request refused', {
      status,
      backend: null,
      upstreamMs: null,
      ms: round(performance.now() - startedAt),
      retries: 0,
      cause,
    });
  }

  /** One line: who asked what, then how it went. */
  private write(req: IncomingMessage, message: string, outcome: Outcome): void {
    if (!this.logger) return;
    const { requestId, traceId } = identityOf(req);
    this.logger.info(
      {
        reqId: requestId,
        traceId,
        client: this.clientOf(req),
        method: req.method,
        url: req.url,
        status: outcome.status,
        backend: outcome.backend,
        upstreamMs: outcome.upstreamMs,
        ms: outcome.ms,
        bytesIn: bytesIn(req.socket),
        bytesOut: bytesOut(req.socket),
        retries: outcome.retries,
        cause: outcome.cause,
      },
      message,
    );
  }

  /** The address that sent the request, as the rate limiter sees it (X-Forwarded-For's first with --trust-proxy). */
  private clientOf(req: IncomingMessage): string {
    if (this.trustProxy) {
      const forwarded = String(req.headers['x-forwarded-for'] ?? '');
      const first = forwarded.split(',', 1)[0].trim();
      if (first !== '') return first;
    }
    return unmapIpv4(req.socket.remoteAddress ?? '-');
  }
}
