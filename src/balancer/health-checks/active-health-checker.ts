import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { StateOrigin } from '../../breaker/upstream-breaker.js';
import { SHARED_STORE, type SharedStore } from '../../cluster/shared-store.js';
import type { HealthCheckSettings } from '../../config/routing-config.js';
import type { ServicePool } from '../service-pool.js';
import type { Upstream } from '../upstream.js';
import { UpstreamPool } from '../upstream-pool.js';
import { HealthProbe } from './health-probe.js';

/** Hears each transition once; the composition root wires it (metrics, and a rise closes the breaker). */
export type HealthChangeListener = (upstream: Upstream, healthy: boolean, origin: StateOrigin) => void;

/** One backend's run of identical results, and whether a check of it is out. */
class CheckHistory {
  passesInARow = 0;
  failuresInARow = 0;
  checking = false;
  /** The last cluster result applied (`<check id>:<1|0>`), so one result is never counted twice. */
  lastShared: string | undefined;
}

/** One check's result, and whether this instance made the check or read another's. */
interface CheckResult {
  readonly passed: boolean;
  readonly origin: StateOrigin;
}

const checkLeaseKey = (upstream: Upstream) => `check-lease:${upstream.url}`;
const checkResultKey = (upstream: Upstream) => `check:${upstream.url}`;

/** One service's round of checks, repeated every `intervalMs`. */
interface CheckTimer {
  readonly intervalMs: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Active health checks, HAProxy-style: every --health-check-interval each backend is probed
 * (each service may set its own interval, path, timeout, fall and rise);
 * --health-check-fall failures in a row take it out of rotation, --health-check-rise passes in a
 * row put it back. Backends start healthy. Transitions are logged once here and handed to
 * listeners (see GatewayObservers: metrics, and the breaker closed on a rise), so this class never
 * knows who reacts to them.
 *
 * In a cluster (the shared store: Redis, or the workers' primary), the checks are not multiplied
 * by the number of instances: each interval, the instance that takes a backend's lease checks it
 * and stores the result; the others read and count that result as their own (rise and fall apply
 * to the same sequence everywhere). A store that does not answer leaves each instance to check alone.
 */
@Injectable()
export class ActiveHealthChecker implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('HealthCheck');
  private readonly listeners: HealthChangeListener[] = [];
  private readonly histories = new Map<Upstream, CheckHistory>();
  /** Aborted when the gateway stops: ends the checks in flight and silences their results. */
  private readonly stopping = new AbortController();
  /** By service name. */
  private readonly timers = new Map<string, CheckTimer>();
  private readonly self = randomUUID();

  constructor(
    private readonly pool: UpstreamPool,
    @Inject(HealthProbe) private readonly probe: HealthProbe,
    @Inject(SHARED_STORE) private readonly store: SharedStore | null,
  ) {}

  onModuleInit(): void {
    this.scheduleRounds();
    this.pool.onChange({ applied: () => this.scheduleRounds(), retired: (upstream) => this.histories.delete(upstream) });
  }

  onModuleDestroy(): void {
    for (const { timer } of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    this.stopping.abort();
  }

  /** One timer per service that checks, restarted when its interval changes, stopped when it goes. */
  private scheduleRounds(): void {
    if (this.stopping.signal.aborted) return;
    const services = this.pool.services;
    for (const [name, { intervalMs, timer }] of this.timers) {
      if (services.get(name)?.settings.healthCheck.intervalMs === intervalMs) continue;
      clearInterval(timer);
      this.timers.delete(name);
    }
    for (const [name, service] of services) {
      const { intervalMs } = service.settings.healthCheck;
      if (intervalMs <= 0 || this.timers.has(name)) continue;
      const timer = setInterval(() => {
        // The service as it is now: a reload may have changed its backends.
        const current = this.pool.service(name);
        if (!current) return;
        this.checkService(current).catch((error: unknown) => this.logger.error(`health check round failed: ${String(error)}`));
      }, intervalMs);
      // Checks alone must not keep the process alive; shutdown clears the timer anyway.
      timer.unref();
      this.timers.set(name, { intervalMs, timer });
    }
  }

  onHealthChange(listener: HealthChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Checks every backend once, in parallel; resolves when this round's checks are done. A backend
   * whose previous check is still out is skipped, so a slow backend never has two checks at once.
   */
  async checkAll(): Promise<void> {
    await Promise.all([...this.pool.services.values()].map((service) => this.checkService(service)));
  }

  private async checkService(service: ServicePool): Promise<void> {
    const settings = service.settings.healthCheck;
    if (settings.intervalMs <= 0) return;
    await Promise.all(service.upstreams.map((upstream) => this.check(upstream, settings)));
  }

  private async check(upstream: Upstream, settings: HealthCheckSettings): Promise<void> {
    const history = this.historyOf(upstream);
    if (history.checking || this.stopping.signal.aborted) return;
    history.checking = true;
    let result: CheckResult | undefined;
    try {
      result = this.store ? await this.checkInCluster(upstream, settings, history, this.store) : { passed: await this.probeOnce(upstream, settings), origin: 'local' };
    } finally {
      history.checking = false;
    }
    // A check cut short by shutdown says nothing about the backend; undefined: no new result in the cluster yet.
    if (this.stopping.signal.aborted || !result) return;
    // A backend retired meanwhile is no one's concern any more.
    if (upstream.retired) return;
    if (result.passed) this.recordPass(upstream, history, result.origin, settings.rise);
    else this.recordFailure(upstream, history, result.origin, settings.fall);
  }

  private async probeOnce(upstream: Upstream, settings: HealthCheckSettings): Promise<boolean> {
    try {
      return await this.probe.check(upstream, settings, this.stopping.signal);
    } catch {
      // The seam promises never to reject; a probe that does anyway has not seen a healthy backend.
      return false;
    }
  }

  /** Checks the backend if this instance takes the interval's lease, else reads the result of the one that did. */
  private async checkInCluster(upstream: Upstream, settings: HealthCheckSettings, history: CheckHistory, store: SharedStore): Promise<CheckResult | undefined> {
    const interval = settings.intervalMs;
    let leader: boolean;
    try {
      // A little shorter than the interval, so the lease is free again when the next round starts.
      leader = !store.available || (await store.put(checkLeaseKey(upstream), this.self, interval * 0.9, true));
    } catch {
      leader = true;
    }
    if (leader) {
      const passed = await this.probeOnce(upstream, settings);
      const shared = `${randomUUID()}:${passed ? 1 : 0}`;
      history.lastShared = shared;
      store.put(checkResultKey(upstream), shared, interval * 3).catch(() => undefined);
      return { passed, origin: 'local' };
    }
    let stored;
    try {
      stored = await store.read(checkResultKey(upstream));
    } catch {
      return { passed: await this.probeOnce(upstream, settings), origin: 'local' };
    }
    if (!stored || stored.value === history.lastShared) return undefined;
    history.lastShared = stored.value;
    return { passed: stored.value.endsWith(':1'), origin: 'cluster' };
  }

  private recordPass(upstream: Upstream, history: CheckHistory, origin: StateOrigin, rise: number): void {
    history.failuresInARow = 0;
    history.passesInARow++;
    if (upstream.healthy || history.passesInARow < rise) return;
    upstream.healthy = true;
    upstream.healthOrigin = origin;
    const told = origin === 'cluster' ? ', checked by another instance' : '';
    this.logger.log(`${upstream.url}: health checks passing (${history.passesInARow} in a row${told}), back in rotation`);
    this.announce(upstream, true, origin);
  }

  private recordFailure(upstream: Upstream, history: CheckHistory, origin: StateOrigin, fall: number): void {
    history.passesInARow = 0;
    history.failuresInARow++;
    if (!upstream.healthy || history.failuresInARow < fall) return;
    upstream.healthy = false;
    upstream.healthOrigin = origin;
    const told = origin === 'cluster' ? ', checked by another instance' : '';
    this.logger.warn(`${upstream.url}: health checks failing (${history.failuresInARow} in a row${told}), out of rotation`);
    this.announce(upstream, false, origin);
  }

  private announce(upstream: Upstream, healthy: boolean, origin: StateOrigin): void {
    for (const listener of this.listeners) listener(upstream, healthy, origin);
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
