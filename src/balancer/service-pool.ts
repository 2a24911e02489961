import type { ServiceSettings } from '../config/routing-config.js';
import type { BalancingStrategy } from './strategies/balancing-strategy.js';
import { STRATEGIES } from './strategies/strategies.js';
import { StickyCookie } from './sticky-cookie.js';
import type { Upstream } from './upstream.js';

/**
 * One service's backends and how they are used: the balancing strategy (its own instance, so each
 * service keeps its own turn), sticky sessions, and the per-backend settings (breaker, checks,
 * retries, timeouts). `upstreams` is replaced whole when the configuration changes, never edited in
 * place, so a pick in progress always sees one consistent list.
 */
export class ServicePool {
  private members: readonly Upstream[] = [];
  private strategyOf: BalancingStrategy;
  /** Sticky sessions, when the service has them. */
  sticky: StickyCookie | undefined;

  constructor(
    readonly name: string,
    public settings: ServiceSettings,
    upstreams: readonly Upstream[] = [],
  ) {
    this.strategyOf = STRATEGIES[settings.balance](settings);
    this.sticky = settings.sticky && new StickyCookie(settings.sticky);
    this.upstreams = upstreams;
  }

  get strategy(): BalancingStrategy {
    return this.strategyOf;
  }

  /** The backends taking new requests, in the configured order. */
  get upstreams(): readonly Upstream[] {
    return this.members;
  }

  set upstreams(members: readonly Upstream[]) {
    this.members = members;
    this.strategyOf.membersChanged?.(members);
  }

  /**
   * A new version of the settings and backends. The strategy is kept (its turn, its ring) unless
   * what it was made from changed.
   */
  update(settings: ServiceSettings, members: readonly Upstream[]): void {
    const previous = this.settings;
    this.settings = settings;
    if (settings.balance !== previous.balance || settings.boundedLoad !== previous.boundedLoad) this.strategyOf = STRATEGIES[settings.balance](settings);
    if (!sameSticky(settings.sticky, previous.sticky)) this.sticky = settings.sticky && new StickyCookie(settings.sticky);
    this.upstreams = members;
  }
}

function sameSticky(a: ServiceSettings['sticky'], b: ServiceSettings['sticky']): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.cookie === b.cookie && a.secure === b.secure && a.httpOnly === b.httpOnly && a.sameSite === b.sameSite;
}
