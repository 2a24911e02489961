import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Upstream } from '../upstream.js';
import { UpstreamPool } from '../upstream-pool.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { HealthProbe } from './health-probe.js';

/** Hears each transition once; the composition root wires it (metrics, and a rise closes the breaker). */
export type HealthChangeListener = (upstream: Upstream, healthy: boolean) => void;

/** One backend's run of identical results, and whether a check of it is out. */
class CheckHistory {
  passesInARow = 0;
  failuresInARow = 0;
  checking = false;
}

/**
 * Active health checks, HAProxy-style: every --health-check-interval each backend is probed;
 * --health-check-fall failures in a row take it out of rotation, --health-check-rise passes in a
 * row put it back. Backends start healthy. Transitions are logged once here and handed to
 * listeners (see GatewayObservers: metrics, and the breaker closed on a rise), so this class never
 * knows who reacts to them.
 */
@Injectable()
export class ActiveHealthChecker implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('HealthCheck');
  private readonly listeners: HealthChangeListener[] = [];
  private readonly histories = new Map<Upstream, CheckHistory>();
  /** Aborted when the gateway stops: ends the checks in flight and silences their results. */
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly pool: UpstreamPool,
    @Inject(HealthProbe) private readonly probe: HealthProbe,
  ) {}

  onModuleInit(): void {
    if (this.config.healthCheckIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.checkAll().catch((error: unknown) => this.logger.error(`health check round failed: ${String(error)}`));
    }, this.config.healthCheckIntervalMs);
    // Checks alone must not keep the process alive; shutdown clears the timer anyway.
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
  }

  onHealthChange(listener: HealthChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Checks every backend once, in parallel; resolves when this round's checks are done. A backend
   * whose previous check is still out is skipped, so a slow backend never has two checks at once.
   */
  async checkAll(): Promise<void> {
    await Promise.all(this.pool.upstreams.map((upstream) => this.check(upstream)));
  }

  private async check(upstream: Upstream): Promise<void> {
    const history = this.historyOf(upstream);
    if (history.checking || this.stopping.signal.aborted) return;
    history.checking = true;
    let passed: boolean;
    try {
      passed = await this.probe.check(upstream, this.stopping.signal);
    } catch {
      // The seam promises never to reject; a probe that does anyway has not seen a healthy backend.
      passed = false;
    } finally {
      history.checking = false;
    }
    // A check cut short by shutdown says nothing about the backend.
    if (this.stopping.signal.aborted) return;
    if (passed) this.recordPass(upstream, history);
    else this.recordFailure(upstream, history);
  }

  private recordPass(upstream: Upstream, history: CheckHistory): void {
    history.failuresInARow = 0;
    history.passesInARow++;
    if (upstream.healthy || history.passesInARow < this.config.healthCheckRise) return;
    upstream.healthy = true;
    this.logger.log(`${upstream.url}: health checks passing (${history.passesInARow} in a row), back in rotation`);
    this.announce(upstream, true);
  }

  private recordFailure(upstream: Upstream, history: CheckHistory): void {
    history.passesInARow = 0;
    history.failuresInARow++;
    if (!upstream.healthy || history.failuresInARow < this.config.healthCheckFall) return;
    upstream.healthy = false;
    this.logger.warn(`${upstream.url}: health checks failing (${history.failuresInARow} in a row), out of rotation`);
    this.announce(upstream, false);
  }

  private announce(upstream: Upstream, healthy: boolean): void {
    for (const listener of this.listeners) listener(upstream, healthy);
  }

  private historyOf(upstream: Upstream): CheckHistory {
    let history = this.histories.get(upstream);
    if (!history) {
      history = new CheckHistory();
      this.histories.set(upstream, history);
    }
    return history;
  }
}
