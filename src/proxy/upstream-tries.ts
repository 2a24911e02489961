import { Inject, Injectable } from '@nestjs/common';
import type { Upstream } from '../balancer/upstream.js';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type BackendCounters, MetricsService } from '../metrics/metrics.service.js';
import type { Exchange } from './exchange.js';
import { RequestRecorder, type TryEnd } from './record/request-recorder.js';

/**
 * Opens and closes the tries of a request at its backends. A try holds its backend's breaker
 * attempt and a slot under --max-inflight-per-backend from its start to its end, and may wait for
 * a response head only as long as the try timeout and what is left of --write-timeout allow.
 */
@Injectable()
export class UpstreamTries {
  private readonly countersOf = new Map<Upstream, BackendCounters>();
  private readonly writeTimeoutMs: number;
  private readonly tryTimeoutMs: number;

  constructor(
    private readonly recorder: RequestRecorder,
    private readonly metrics: MetricsService,
    pool: UpstreamPool,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.writeTimeoutMs = config.writeTimeoutMs;
    this.tryTimeoutMs = config.tryTimeoutMs ?? config.writeTimeoutMs;
    // Registered now, in the configured order, so /metrics lists every backend from the start.
    for (const upstream of pool.upstreams) this.register(upstream);
    pool.onChange({
      added: (upstream) => this.register(upstream),
      // A backend may have moved to another service: its label follows.
      applied: () => {
        for (const [upstream, counters] of this.countersOf) counters.service = upstream.service;
      },
      retired: (upstream) => {
        this.countersOf.delete(upstream);
        // Not when it was rebuilt under the same URL (new breaker settings): its counters go on.
        if (pool.upstream(upstream.url) === undefined) metrics.forgetBackend(upstream.url);
      },
    });
  }

  private register(upstream: Upstream): BackendCounters {
    const counters = this.metrics.backend(upstream.url, upstream.service);
    this.countersOf.set(upstream, counters);
    return counters;
  }

  /** Starts a try at `upstream`; the transport sends it next. */
  start(exchange: Exchange, upstream: Upstream): void {
    exchange.phase = 'trying';
    exchange.upstream = upstream;
    exchange.backend = this.countersOf.get(upstream) ?? this.register(upstream);
    upstream.inFlight++;
    exchange.attempt = upstream.breaker.begin();
    exchange.releaseSlot = upstream.cap?.occupy();
    exchange.tryStartedAt = performance.now();
    const settings = exchange.service?.settings;
    const writeTimeoutMs = settings?.writeTimeoutMs ?? this.writeTimeoutMs;
    const tryTimeoutMs = settings ? (settings.tryTimeoutMs ?? settings.writeTimeoutMs) : this.tryTimeoutMs;
    const left = writeTimeoutMs - exchange.triedMs;
    exchange.tryTimeoutMs = writeTimeoutMs > 0 ? Math.min(tryTimeoutMs, left) : tryTimeoutMs;
    this.recorder.tryStarted(exchange);
  }

  /** Ends the current try, if one is open: its breaker hears a failure (a success was told when its answer came), its slot is given back. */
  end(exchange: Exchange, end: TryEnd): void {
    const attempt = exchange.attempt;
    if (!attempt) return;
    exchange.attempt = undefined;
    exchange.upstream!.inFlight--;
    exchange.releaseSlot?.();
    exchange.releaseSlot = undefined;
    if (end.kind === 'failed') attempt.fail(end.error);
    else if (end.kind === 'abandoned') attempt.abandon();
    else attempt.succeed(); // an answer was reported to the breaker when it came; this is then a no-op
    const tryMs = performance.now() - exchange.tryStartedAt;
    exchange.triedMs += tryMs;
    this.recorder.tryEnded(exchange, end, tryMs);
  }
}
