import { Inject, Injectable, Logger } from '@nestjs/common';
import { formatDuration } from '../config/duration.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type BreakerState, type StateOrigin, UpstreamBreaker, type UpstreamBreakerOptions } from './upstream-breaker.js';

export type BreakerStateListener = (backend: string, state: BreakerState, origin: StateOrigin) => void;

/**
 * One circuit breaker per backend, configured by --breaker-failures and --breaker-cooldown.
 * State changes are logged once here and handed to listeners (metrics subscribes), so the
 * breaker never needs to know who reports them.
 */
@Injectable()
export class CircuitBreakerService {
  private readonly logger = new Logger('CircuitBreaker');
  private readonly breakers = new Map<string, UpstreamBreaker>();
  private readonly listeners: BreakerStateListener[] = [];
  private probesGated = false;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /**
   * The breaker of a backend, created on first use with its service's settings (the flags' by default);
   * a backend that stays through a configuration change keeps the breaker it has.
   */
  breakerFor(backend: string, options: UpstreamBreakerOptions = { failures: this.config.breakerFailures, cooldownMs: this.config.breakerCooldownMs }): UpstreamBreaker {
    let breaker = this.breakers.get(backend);
    if (!breaker) {
      breaker = new UpstreamBreaker(options);
      breaker.onStateChange((state, origin) => this.announce(backend, state, origin));
      if (this.probesGated) breaker.gateProbes();
      this.breakers.set(backend, breaker);
    }
    return breaker;
  }

  /** A backend removed from the configuration: its breaker goes with it (one added again starts closed). */
  forget(backend: string): void {
    this.breakers.delete(backend);
  }

  onStateChange(listener: BreakerStateListener): void {
    this.listeners.push(listener);
  }

  /** In a cluster: every breaker, now and later, waits for the cluster's probe lease before probing (see ClusterBreakerSync). */
  gateProbes(): void {
    this.probesGated = true;
    for (const breaker of this.breakers.values()) breaker.gateProbes();
  }

  /** Every breaker, by backend URL. */
  all(): ReadonlyMap<string, UpstreamBreaker> {
    return this.breakers;
  }

  private announce(backend: string, state: BreakerState, origin: StateOrigin): void {
    const cooldown = formatDuration(this.config.breakerCooldownMs);
    const told = origin === 'cluster' ? ' (told by the cluster)' : '';
    switch (state) {
      case 'open':
        this.logger.warn(`${backend}: circuit open${told}, out of rotation; one probe request after ${cooldown}`);
        break;
      case 'half-open':
        this.logger.log(`${backend}: circuit half-open, probing with one request`);
        break;
      case 'closed':
        this.logger.log(`${backend}: circuit closed${told}, back in rotation`);
        break;
      default: {
        const unexpected: never = state;
        throw new Error(`unknown breaker state ${String(unexpected)}`);
      }
    }
    for (const listener of this.listeners) listener(backend, state, origin);
  }
}
