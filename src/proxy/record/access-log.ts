import type { IncomingMessage } from 'node:http';
import { type HttpException, Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { BatchedLineWriter } from '../../logging/batched-line-writer.js';
import { RootLogger } from '../../logging/root-logger.js';
import { ClientAddressResolver } from '../edge/client-address.js';
import type { Exchange } from '../exchange.js';
import { RateLimitedError } from '../proxy-errors.js';
import { JsonLineEncoder } from '../../logging/json-line-encoder.js';
import { AccessLine, encodeAccessLine, maxLineBytes, round, toJsonLine } from './access-line.js';
import { RateLimitedLines } from './rate-limited-lines.js';

/** How often owed 429 lines are written (at most one per client per this period). */
const RATE_LIMITED_LINE_PERIOD_MS = 1_000;

/**
 * One JSON line per request on the proxy path, through the shared pino logger (asynchronous:
 * logging never blocks the event loop). Requests that ended in a 5xx, the backend's or the
 * gateway's own, are `warn`, so `--log-level=warn` still shows every failure; the rest are `info`.
 * A flood of refused requests does not flood the log: a client's 429s are logged at most once a
 * second, each such line saying how many were refused since the previous one. `--access-log=false`
 * turns the lines off.
 */
@Injectable()
export class AccessLog implements OnModuleInit, OnModuleDestroy {
  private readonly logger: Logger | undefined;
  /** Where JSON lines go directly (stdout not a terminal); otherwise through pino, to be pretty-printed. */
  private readonly lines: BatchedLineWriter | undefined;
  /** pino's numeric level: lines below it are not made at all. */
  private readonly minLevel: number;
  private readonly rateLimited = new RateLimitedLines(RATE_LIMITED_LINE_PERIOD_MS);
  private readonly encoder = new JsonLineEncoder();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    root: RootLogger,
    private readonly clients: ClientAddressResolver,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.logger = config.accessLog ? root.pino : undefined;
    this.lines = root.lines;
    this.minLevel = root.pino.levelVal;
  }

  onModuleInit(): void {
    if (!this.logger) return;
    this.flushTimer = setInterval(() => this.writeOwedRateLimitedLines(Date.now()), RATE_LIMITED_LINE_PERIOD_MS);
    this.flushTimer.unref();
  }

  /** Writes the 429 lines still owed, so a stop loses no count. */
  onModuleDestroy(): void {
    clearInterval(this.flushTimer);
    this.writeOwedRateLimitedLines(Infinity);
  }

  /** A proxied request is over. `upstreamMs` is undefined when no backend's try answered it. */
  recordProxied(exchange: Exchange, status: number, durationMs: number, upstreamMs: number | undefined): void {
    if (!this.logger || levelOf(status) < this.minLevel) return;
    const { req, phase } = exchange;
    const answeredBy = phase === 'delivering' ? 'backend' : phase === 'answered-by-gateway' ? 'gateway' : null;
    const line = new AccessLine(
      req,
      this.clients.addressOf(req),
      status,
      answeredBy,
      exchange.upstream?.url ?? null,
      upstreamMs === undefined ? null : round(upstreamMs),
      round(durationMs),
      exchange.retries,
      exchange.cause ?? null,
      undefined,
    );
    this.write(line, 'request completed');
  }

  /** A WebSocket upgrade is over: its tunnel closed (101), or the backend refused the upgrade and answered. */
  recordTunnel(req: IncomingMessage, status: number, backend: string, durationMs: number, cause: string | null): void {
    if (!this.logger) return;
    this.write(new AccessLine(req, this.clients.addressOf(req), status, 'backend', backend, null, round(durationMs), 0, cause, undefined), 'websocket closed');
  }

  /** A request the gateway answered before proxying it (429 rate limited, 400 bad target). */
  recordRefused(req: IncomingMessage, refusal: HttpException, startedAt: number): void {
    if (!this.logger) return;
    const client = this.clients.addressOf(req);
    const ms = round(performance.now() - startedAt);
    if (refusal instanceof RateLimitedError) {
      const refused = this.rateLimited.take(client, req, ms, Date.now());
      if (refused > 0) this.write(rateLimitedLine(req, client, ms, refused), 'request refused');
      return;
    }
    this.write(new AccessLine(req, client, refusal.getStatus(), 'gateway', null, null, ms, 0, refusal.message, undefined), 'request refused');
  }

  private writeOwedRateLimitedLines(now: number): void {
    for (const owed of this.rateLimited.owed(now)) this.write(rateLimitedLine(owed.req, owed.client, owed.ms, owed.refused), 'request refused');
  }

  private write(line: AccessLine, message: string): void {
    const level = levelOf(line.status);
    if (level < this.minLevel) return;
    const lines = this.lines;
    if (!lines) {
      // A terminal: through pino, which pretty-prints it.
      if (level === WARN) this.logger!.warn(line, message);
      else this.logger!.info(line, message);
    } else if (lines.beginLine(this.encoder, maxLineBytes(line, message))) {
      encodeAccessLine(this.encoder, line, level, Date.now(), message);
      lines.endLine(this.encoder);
    } else {
      lines.write(toJsonLine(line, level, Date.now(), message)); // longer than a batch buffer (a huge url)
    }
  }
}

/** pino's levels for the two kinds of line: a request that ended in a 5xx is a warning. */
const INFO = 30;
const WARN = 40;

function levelOf(status: number): number {
  return status >= 500 ? WARN : INFO;
}

function rateLimitedLine(req: IncomingMessage, client: string, ms: number, refused: number): AccessLine {
  return new AccessLine(req, client, 429, 'gateway', null, null, ms, 0, 'rate limited', refused);
}
