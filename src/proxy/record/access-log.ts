import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type HttpException, Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { RootLogger } from '../../logging/root-logger.js';
import { ClientAddressResolver } from '../edge/client-address.js';
import type { Exchange } from '../exchange.js';
import { RateLimitedError } from '../proxy-errors.js';
import { identityOf } from '../request-identity.js';
import { RateLimitedLines } from './rate-limited-lines.js';

/** Socket byte counts at the end of the previous request on the same connection. */
const READ_BEFORE = Symbol('gateway.readBefore');
const WRITTEN_BEFORE = Symbol('gateway.writtenBefore');
type CountedSocket = Socket & { [READ_BEFORE]?: number; [WRITTEN_BEFORE]?: number };

/**
 * Bytes this request read on its connection, headers included (as NGINX's $request_length): the
 * socket's count since the previous logged request on it ended. `bytesOut` (after) must follow.
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

/** Who gave the client its answer: a backend (its own, or one kept from an earlier try), or the gateway itself. */
export type AnsweredBy = 'backend' | 'gateway';

/**
 * One access-log line's fields, in the order they are written: who asked what, then how it went.
 * A class, so every line has the same shape (one object, no copying) on the way to pino.
 */
class AccessLine {
  readonly reqId: string;
  readonly traceId: string;
  readonly client: string;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly status: number;
  /** Null when nobody answered (the client left first: 499). */
  readonly answeredBy: AnsweredBy | null;
  readonly backend: string | null;
  readonly upstreamMs: number | null;
  readonly ms: number;
  readonly retries: number;
  readonly cause: string | null;
  /** On a 429 line only: the refusals of this client since its previous 429 line, this one included. */
  readonly refused: number | undefined;
  readonly bytesIn: number;
  readonly bytesOut: number;

  // One positional argument per field: a line is made per request.
  constructor(
    req: IncomingMessage,
    client: string,
    status: number,
    answeredBy: AnsweredBy | null,
    backend: string | null,
    upstreamMs: number | null,
    ms: number,
    retries: number,
    cause: string | null,
    refused: number | undefined,
  ) {
    const { requestId, traceId } = identityOf(req);
    this.reqId = requestId;
    this.traceId = traceId;
    this.client = client;
    this.method = req.method;
    this.url = req.url;
    this.status = status;
    this.answeredBy = answeredBy;
    this.backend = backend;
    this.upstreamMs = upstreamMs;
    this.ms = ms;
    this.retries = retries;
    this.cause = cause;
    this.refused = refused;
    this.bytesIn = bytesIn(req.socket);
    this.bytesOut = bytesOut(req.socket);
  }
}

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
  private readonly rateLimited = new RateLimitedLines(RATE_LIMITED_LINE_PERIOD_MS);
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    root: RootLogger,
    private readonly clients: ClientAddressResolver,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.logger = config.accessLog ? root.pino : undefined;
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
    if (!this.logger) return;
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
    if (line.status >= 500) this.logger!.warn(line, message);
    else this.logger!.info(line, message);
  }
}

function rateLimitedLine(req: IncomingMessage, client: string, ms: number, refused: number): AccessLine {
  return new AccessLine(req, client, 429, 'gateway', null, null, ms, 0, 'rate limited', refused);
}
