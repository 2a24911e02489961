import { Injectable } from '@nestjs/common';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { Exchange } from '../exchange.js';
import { ClientClosedRequestError, toHttpException } from '../proxy-errors.js';
import { describeFailure } from '../try-failure.js';
import { AccessLog } from './access-log.js';

/** How one try at a backend ended, as the counters see it. */
export type TryEnd =
  /** Its response went to the client (whatever the status). */
  | { readonly kind: 'delivered' }
  /** Its response was held back for a retry (a 502/503/504). */
  | { readonly kind: 'retried'; readonly status: number }
  /** No usable response: refused, reset, timed out, or broken off mid-body. */
  | { readonly kind: 'failed'; readonly error: unknown }
  /** The client went away first. */
  | { readonly kind: 'abandoned' };

export const DELIVERED: TryEnd = { kind: 'delivered' };
export const ABANDONED: TryEnd = { kind: 'abandoned' };

/** The status a try is counted under when no response of the backend's reached anyone. */
const NO_RESPONSE_STATUS = 502;
const CLIENT_CLOSED_STATUS = toHttpException(new ClientClosedRequestError()).getStatus();

/**
 * Everything counted and logged about a proxied request, in one room: per try (the backend's
 * counters, its last error, the per-try event /status reads) and once per request (the gateway's
 * counters, the completed-request event, the access-log line).
 */
@Injectable()
export class RequestRecorder {
  constructor(
    private readonly metrics: MetricsService,
    private readonly accessLog: AccessLog,
  ) {}

  requestStarted(): void {
    this.metrics.requests++;
  }

  tryStarted(exchange: Exchange): void {
    const backend = exchange.backend!;
    backend.requests++;
    backend.inFlight++;
  }

  retried(): void {
    this.metrics.retries++;
  }

  tryEnded(exchange: Exchange, end: TryEnd, tryMs: number): void {
    const backend = exchange.backend!;
    backend.inFlight--;
    let status: number;
    switch (end.kind) {
      case 'delivered':
        backend.responses++;
        status = exchange.status;
        if (status >= 500) this.noteError(exchange, String(status));
        break;
      case 'retried':
        backend.errors++;
        status = end.status;
        this.noteError(exchange, String(status));
        break;
      case 'failed':
        backend.errors++;
        status = NO_RESPONSE_STATUS;
        this.noteError(exchange, describeFailure(end.error));
        break;
      case 'abandoned':
        status = CLIENT_CLOSED_STATUS;
        break;
      default: {
        const unexpected: never = end;
        throw new Error(`unknown try end ${String(unexpected)}`);
      }
    }
    this.metrics.tryCompleted(backend.url, status, tryMs);
  }

  /** Once per request, when its response is done or its client has gone. */
  settled(exchange: Exchange): void {
    const { metrics } = this;
    let status = exchange.status;
    switch (exchange.phase) {
      case 'delivering':
        metrics.responses++;
        break;
      case 'answered-by-gateway':
        metrics.errors++;
        break;
      case 'client-fault':
        // Answered by the dispatcher (408, 400): the client's doing, not the gateway's error.
        metrics.aborted++;
        exchange.cause ??= 'client too slow or malformed';
        break;
      case 'receiving':
      case 'trying':
      case 'keeping':
      case 'backing-off':
        // The client left before any backend answered: nothing to answer, and not a gateway error.
        metrics.aborted++;
        status = CLIENT_CLOSED_STATUS;
        exchange.cause ??= 'client went away';
        break;
      default: {
        const unexpected: never = exchange.phase;
        throw new Error(`unknown exchange phase ${String(unexpected)}`);
      }
    }
    const now = performance.now();
    const durationMs = now - exchange.startedAt;
    // The try whose answer the client got; a kept answer came from an earlier one, no longer timed.
    const upstreamMs = exchange.phase === 'delivering' && exchange.kept === undefined ? now - exchange.tryStartedAt : undefined;
    metrics.requestCompleted({
      backend: exchange.upstream?.url,
      service: exchange.service?.name,
      method: exchange.req.method ?? 'GET',
      status,
      durationMs,
      upstreamMs,
      retries: exchange.retries,
    });
    this.accessLog.recordProxied(exchange, status, durationMs, upstreamMs);
  }

  private noteError(exchange: Exchange, reason: string): void {
    const backend = exchange.backend!;
    backend.lastError = reason;
    backend.lastErrorAt = Date.now();
  }
}
