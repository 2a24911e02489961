import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { sourceOf } from '../config/parse-gateway-config.js';
import { hasHttpsBackends, ROUTING_CONFIG, type RoutingConfig, type ServiceSpec } from '../config/routing-config.js';
import { BackendDiscovery, type DiscoveredBackend } from './discovery/backend-discovery.js';
import { ServicePool } from './service-pool.js';
import { Upstream } from './upstream.js';
import { type UpstreamTlsOptions, upstreamTlsOptions } from './upstream-tls.js';

/** Hears backends join and leave; a retired one is heard once its last request has finished. */
export interface PoolListener {
  added?(upstream: Upstream): void;
  /** A new version is in force (backends may have changed service or weight). */
  applied?(): void;
  retired?(upstream: Upstream): void;
}

/** How often a retiring backend is looked at for requests still in flight. */
const DRAIN_POLL_MS = 100;

/**
 * Every backend of every service, as the running configuration declares them. A new version is
 * applied in one synchronous step (`apply`): a backend that stays keeps its Upstream (breaker,
 * health, connections, counters); a new one is created; one that left is retired: it takes no new
 * requests at once, the requests it has finish (up to --shutdown-timeout), then its connections
 * are closed and listeners forget it.
 */
@Injectable()
export class UpstreamPool implements OnModuleDestroy {
  /** Every backend taking new requests, service by service in configured order. */
  upstreams: readonly Upstream[] = [];
  /** How https:// backends are connected to; undefined until one is configured. */
  tls: UpstreamTlsOptions | undefined;
  private readonly pools = new Map<string, ServicePool>();
  private readonly byUrl = new Map<string, Upstream>();
  private readonly retiring = new Set<Upstream>();
  /** What each backend was built with (breaker, caps, TLS name): a version that changes any of it builds the backend anew. */
  private readonly builtWith = new WeakMap<Upstream, string>();
  private readonly listeners: PoolListener[] = [];
  private drainTimer: NodeJS.Timeout | undefined;
  /** The version in force, applied again when DNS discovery finds new addresses. */
  private routing: RoutingConfig;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly breakers: CircuitBreakerService,
    @Inject(ROUTING_CONFIG) routing: RoutingConfig,
    private readonly discovery: BackendDiscovery,
  ) {
    this.routing = routing;
    discovery.onChange(() => this.apply(this.routing));
    if (config.upstreamInsecure) {
      new Logger('Upstreams').warn(
        `${sourceOf(config, 'upstreamInsecure')}: backend certificates are NOT verified; anyone between the gateway and its backends can read and change the traffic`,
      );
    }
    this.apply(routing);
  }

  /** The services, by name, in configured order. */
  get services(): ReadonlyMap<string, ServicePool> {
    return this.pools;
  }

  service(name: string): ServicePool | undefined {
    return this.pools.get(name);
  }

  /** The configured backend with this URL (as written in the configuration), drained ones included. */
  upstream(url: string): Upstream | undefined {
    return this.byUrl.get(url);
  }

  onChange(listener: PoolListener): void {
    this.listeners.push(listener);
  }

  /** Makes the pool what `routing` declares (see the class comment). Synchronous: no request sees half of it. */
  apply(routing: RoutingConfig): void {
    // The one step that can fail (reading --upstream-ca), taken before anything changes.
    if (hasHttpsBackends(routing)) this.tls ??= upstreamTlsOptions(this.config);
    this.routing = routing;
    const kept = new Set<Upstream>();
    const added: Upstream[] = [];
    const next = new Map<string, ServicePool>();
    for (const spec of routing.services.values()) {
      const service = this.pools.get(spec.name) ?? new ServicePool(spec.name, spec.settings);
      const members = this.discovery.backendsOf(spec).map(({ url, weight, drained, serverName }) => {
        let upstream = this.byUrl.get(url);
        if (upstream && !upstream.retired && this.builtWith.get(upstream) === buildOf(spec, serverName)) kept.add(upstream);
        else {
          // New settings for its breaker or caps (as Envoy re-creates a changed cluster): a fresh breaker with them.
          if (upstream) this.breakers.forget(url);
          upstream = this.create(url, spec, serverName);
          added.push(upstream);
        }
        upstream.service = spec.name;
        upstream.weight = weight;
        upstream.drained = drained;
        return upstream;
      });
      // A drained backend keeps its breaker, health and connections, and takes no new requests.
      service.update(spec.settings, members.filter((upstream) => !upstream.drained));
      next.set(spec.name, service);
    }
    const left = [...this.byUrl.values()].filter((upstream) => !kept.has(upstream) && !added.includes(upstream));
    // A request matched to a service just removed (its rate limit still deciding) finds no backend: 503, not a closed one.
    for (const [name, service] of this.pools) if (!next.has(name)) service.upstreams = [];
    this.pools.clear();
    for (const [name, service] of next) this.pools.set(name, service);
    this.upstreams = [...next.values()].flatMap((service) => service.upstreams);
    for (const upstream of added) this.byUrl.set(upstream.url, upstream);
    for (const upstream of added) for (const listener of this.listeners) listener.added?.(upstream);
    for (const upstream of left) this.retire(upstream);
    this.discovery.forgetUnused();
    for (const listener of this.listeners) listener.applied?.();
  }

  onModuleDestroy(): void {
    clearInterval(this.drainTimer);
    for (const upstream of [...this.byUrl.values(), ...this.retiring]) upstream.close();
  }

  private create(url: string, spec: ServiceSpec, serverName: DiscoveredBackend['serverName']): Upstream {
    const { settings } = spec;
    const breaker = this.breakers.breakerFor(url, { failures: settings.breaker.failures, cooldownMs: settings.breaker.cooldownMs });
    const upstream = new Upstream(url, breaker, settings.maxSocketsPerBackend, settings.maxInflightPerBackend, this.tls, serverName);
    this.builtWith.set(upstream, buildOf(spec, serverName));
    return upstream;
  }

  /** Out of rotation now; closed once its requests are done, or at --shutdown-timeout. */
  private retire(upstream: Upstream): void {
    upstream.retired = true;
    if (this.byUrl.get(upstream.url) === upstream) this.byUrl.delete(upstream.url);
    this.retiring.add(upstream);
    upstream.drainDeadline = performance.now() + this.config.shutdownTimeoutMs;
    this.drainTimer ??= setInterval(() => this.closeDrained(), DRAIN_POLL_MS).unref();
    this.closeDrained();
  }

  private closeDrained(): void {
    const now = performance.now();
    for (const upstream of this.retiring) {
      if (upstream.inFlight > 0 && now < upstream.drainDeadline) continue;
      this.retiring.delete(upstream);
      upstream.close();
      // A backend added back meanwhile has a breaker of its own by now.
      if (!this.byUrl.has(upstream.url)) this.breakers.forget(upstream.url);
      for (const listener of this.listeners) listener.retired?.(upstream);
    }
    if (this.retiring.size === 0) {
      clearInterval(this.drainTimer);
      this.drainTimer = undefined;
    }
  }
}

/** The settings an Upstream is built with; the others (timeouts, retries, checks, weight) are read where they are used. */
function buildOf({ settings }: ServiceSpec, serverName: string | undefined): string {
  return `${settings.breaker.failures}/${settings.breaker.cooldownMs}/${settings.maxSocketsPerBackend}/${settings.maxInflightPerBackend}/${serverName ?? ''}`;
}
