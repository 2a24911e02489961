import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONNECT_WAIT_MS } from '../cluster/redis-connection.js';
import { SHARED_STORE, type SharedStore } from '../cluster/shared-store.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { CircuitBreakerService } from './circuit-breaker.service.js';
import type { BreakerState, StateOrigin, UpstreamBreaker } from './upstream-breaker.js';

/** The pub/sub channel of breaker news. */
const CHANNEL = 'breakers';
/** How often each instance re-reads the cluster's verdicts: what a lost message or a restart missed is seen within this. */
export const CATCH_UP_EVERY_MS = 1_000;

/** The cluster's latest verdict on one backend's breaker: in a message, and under `breaker:<backend>` until its cool-down ends. */
interface BreakerNews {
  readonly backend: string;
  readonly state: 'open' | 'closed';
  /** For `open`: how much of the cool-down is left when sent (a duration, so instances' clocks need not agree). */
  readonly remainingMs: number;
  readonly from: string;
}

const verdictKey = (backend: string) => `breaker:${backend}`;
const probeLeaseKey = (backend: string) => `probe:${backend}`;

/**
 * One view of the backends' breakers across the cluster (the shared store: Redis, or the workers'
 * primary). A breaker that opens here is announced (pub/sub) and recorded with its cool-down as
 * TTL, so every instance holds it open for the rest of the cool-down, a restarted one or one that
 * missed the message included (each re-reads the verdicts every second). When the cool-down ends,
 * the instances race for a lease and only the winner lets its probe through; its result (closed,
 * or open again) is announced the same way. Whenever the store does not answer, each breaker acts
 * alone, as without a cluster: a failing store never keeps a backend out or in.
 */
@Injectable()
export class ClusterBreakerSync implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CircuitBreaker');
  private readonly self = randomUUID();
  private readonly probeTimers = new Map<string, NodeJS.Timeout>();
  private catchUpTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly breakers: CircuitBreakerService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(SHARED_STORE) private readonly store: SharedStore | null,
  ) {}

  /** Subscribes before the gateway serves (waiting at most CONNECT_WAIT_MS: a Redis that is down must not stop it). */
  async onModuleInit(): Promise<void> {
    if (!this.store || this.config.breakerFailures === 0) return;
    this.breakers.gateProbes();
    this.breakers.onStateChange((backend, state, origin) => this.localChange(backend, state, origin));
    this.catchUpTimer = setInterval(() => void this.catchUp(), CATCH_UP_EVERY_MS);
    this.catchUpTimer.unref();
    const subscribed = this.store.subscribe(CHANNEL, (message) => this.hear(message));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)))]);
    clearTimeout(timer);
    await this.catchUp();
  }

  onModuleDestroy(): void {
    clearInterval(this.catchUpTimer);
    for (const timer of this.probeTimers.values()) clearTimeout(timer);
    this.probeTimers.clear();
  }

  /** This instance's own finding: tell the cluster. */
  private localChange(backend: string, state: BreakerState, origin: StateOrigin): void {
    const breaker = this.breakers.all().get(backend);
    if (!breaker) return;
    if (state === 'open') this.scheduleProbe(backend, breaker);
    if (origin !== 'local' || state === 'half-open') return;
    const news: BreakerNews = { backend, state, remainingMs: state === 'open' ? this.config.breakerCooldownMs : 0, from: this.self };
    const message = JSON.stringify(news);
    const store = this.store!;
    // The verdict outlives the message by the cool-down: instances that miss the message read it.
    Promise.all([store.put(verdictKey(backend), message, this.config.breakerCooldownMs), store.publish(CHANNEL, message)]).catch(() => undefined);
    if (state === 'closed') store.removeIf(probeLeaseKey(backend), this.self).catch(() => undefined);
  }

  /** Another instance's finding. */
  private hear(message: string): void {
    const news = parseNews(message);
    if (!news || news.from === this.self) return;
    this.apply(news, news.remainingMs);
  }

  private apply(news: BreakerNews, remainingMs: number): void {
    const breaker = this.breakers.all().get(news.backend);
    if (!breaker) return;
    if (news.state === 'open') {
      breaker.holdOpen(remainingMs);
      this.scheduleProbe(news.backend, breaker);
    } else if (breaker.state !== 'closed') {
      breaker.reset('cluster');
    }
  }

  /** Re-reads every backend's verdict: what a lost message, an outage or a restart missed. */
  private async catchUp(): Promise<void> {
    const store = this.store!;
    if (!store.available) return;
    for (const [backend, breaker] of this.breakers.all()) {
      let stored;
      try {
        stored = await store.read(verdictKey(backend));
      } catch {
        return;
      }
      if (!stored) continue;
      const news = parseNews(stored.value);
      if (!news || news.from === this.self) continue;
      // Only what this instance has not heard: an opening while it is closed, a closing while the cluster holds it.
      if (news.state === 'open' ? breaker.state === 'closed' : breaker.origin === 'cluster') this.apply(news, stored.ttlMs);
    }
  }

  /** At the end of the breaker's cool-down, compete for the cluster's one probe. */
  private scheduleProbe(backend: string, breaker: UpstreamBreaker): void {
    clearTimeout(this.probeTimers.get(backend));
    const dueAt = breaker.probeDueAt;
    if (dueAt === undefined) return;
    const timer = setTimeout(() => void this.claimProbe(backend, breaker), Math.max(0, dueAt - Date.now()));
    timer.unref();
    this.probeTimers.set(backend, timer);
  }

  private async claimProbe(backend: string, breaker: UpstreamBreaker): Promise<void> {
    this.probeTimers.delete(backend);
    const dueAt = breaker.probeDueAt;
    if (dueAt === undefined) return;
    if (Date.now() < dueAt) return this.scheduleProbe(backend, breaker);
    const store = this.store!;
    let won = true; // a store that does not answer leaves the decision to this instance
    if (store.available) {
      try {
        won = await store.put(probeLeaseKey(backend), this.self, this.config.breakerCooldownMs, true);
      } catch {
        won = true;
      }
    }
    if (won) {
      breaker.permitProbe();
      return;
    }
    // Another instance probes. Its result arrives as news; if it never does (that instance died or
    // had no traffic), the lease expires after a cool-down and the race starts again.
    const timer = setTimeout(() => void this.claimProbe(backend, breaker), this.config.breakerCooldownMs);
    timer.unref();
    this.probeTimers.set(backend, timer);
    this.logger.debug(`${backend}: another instance probes`);
  }
}

function parseNews(message: string): BreakerNews | undefined {
  try {
    const news = JSON.parse(message) as BreakerNews;
    return typeof news.backend === 'string' && (news.state === 'open' || news.state === 'closed') ? news : undefined;
  } catch {
    return undefined;
  }
}
