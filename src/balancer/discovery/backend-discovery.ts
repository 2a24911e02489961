import { isIP } from 'node:net';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { BackendSpec, ServiceSpec } from '../../config/routing-config.js';
import { type DnsLookup, resolverDnsLookup, systemDnsLookup } from './dns-lookup.js';
import { DnsWatcher } from './dns-watcher.js';
import { expandBackendUrl } from './resolved-backends.js';

/** A configured backend as it is reached: one of the addresses its name resolved to, or itself. */
export interface DiscoveredBackend extends BackendSpec {
  /** For a resolved https:// backend: the name for SNI and certificate checks (the URL holds an address). */
  readonly serverName?: string;
}

/**
 * DNS service discovery (NGINX Plus `resolve`, Envoy STRICT_DNS): a backend given by host name in a
 * service with `resolve` (or --resolve-backends) stands for every address the name resolves to,
 * looked up again every `dnsRefresh`. New addresses join the service and vanished ones are drained
 * (the pool applies the change as it applies a new configuration); a failed lookup keeps the last
 * good set and is logged. Until a name's first lookup has answered, the name itself is the backend
 * (resolved at connect time), so a slow or failing DNS never empties a service.
 */
@Injectable()
export class BackendDiscovery implements OnModuleDestroy {
  private readonly logger = new Logger('Discovery');
  private readonly lookup: DnsLookup;
  /** By service and backend URL. */
  private readonly watchers = new Map<string, DnsWatcher>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private wanted = new Set<string>();
  private listener: () => void = () => undefined;
  private stopped = false;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.lookup = config.dnsResolvers.length > 0 ? resolverDnsLookup(config.dnsResolvers) : systemDnsLookup;
  }

  /** Hears every change of a name's addresses: the pool applies its configuration again. */
  onChange(listener: () => void): void {
    this.listener = listener;
  }

  /** A service's backends as they are reached now; starts watching the names it has not seen yet. */
  backendsOf(service: ServiceSpec): readonly DiscoveredBackend[] {
    if (!service.settings.resolve) return service.backends;
    return service.backends.flatMap((backend): DiscoveredBackend[] => {
      const { hostname, protocol } = new URL(backend.url);
      if (isIP(hostname.replace(/^\[|\]$/g, '')) !== 0) return [backend];
      const key = `${service.name}\n${backend.url}`;
      this.wanted.add(key);
      const addresses = this.watcherOf(key, hostname, service.settings.dnsRefreshMs).current;
      if (addresses.length === 0) return [backend];
      const serverName = protocol === 'https:' ? hostname : undefined;
      return expandBackendUrl(backend.url, addresses).map((url) => ({ ...backend, url, serverName }));
    });
  }

  /** Called after each version is applied: names no longer configured stop being looked up. */
  forgetUnused(): void {
    for (const [key, watcher] of this.watchers) {
      if (this.wanted.has(key)) continue;
      watcher.stop();
      this.watchers.delete(key);
    }
    this.wanted = new Set();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const watcher of this.watchers.values()) watcher.stop();
    this.watchers.clear();
    for (const timer of this.retries) clearTimeout(timer);
  }

  private watcherOf(key: string, hostname: string, refreshMs: number): DnsWatcher {
    const known = this.watchers.get(key);
    if (known) return known;
    const watcher = new DnsWatcher({
      hostname,
      refreshMs,
      lookup: this.lookup,
      onAddresses: (addresses) => {
        this.logger.log(`${hostname}: now ${addresses.join(', ')}`);
        this.listener();
      },
      onError: (error, kept) => this.logger.warn(`${hostname}: lookup failed (${error.message}); keeping ${kept.join(', ')}`),
    });
    this.watchers.set(key, watcher);
    watcher.start().then(
      (addresses) => {
        this.logger.log(`${hostname}: ${addresses.join(', ')}`);
        this.listener();
      },
      (error: Error) => {
        // The name stays the backend meanwhile; a new watcher tries again after the refresh interval.
        this.logger.warn(`${hostname}: cannot resolve (${error.message}); connecting by name until it resolves`);
        if (this.watchers.get(key) === watcher) this.watchers.delete(key);
        this.retryLater(refreshMs);
      },
    );
    return watcher;
  }

  private retryLater(refreshMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      this.listener();
    }, refreshMs);
    timer.unref();
    this.retries.add(timer);
  }
}
