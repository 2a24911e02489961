import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import { SHARED_STORE, type SharedStore } from '../cluster/shared-store.js';
import { ConfigFileError, readConfigDocument, resolveConfigDocument } from '../config/config-file.js';
import { watchFileChanges } from '../config/file-changes.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { sourceOf } from '../config/parse-gateway-config.js';
import { ROUTING_CONFIG, type RoutingConfig } from '../config/routing-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Router } from './router.js';

/** How often the config file is looked at: a change is applied within this plus SETTLE_MS. */
const CONFIG_POLL_MS = 250;
/** An editor or `kubectl` may write a file in several steps: read it once it has been still this long. */
const SETTLE_MS = 100;

/** What made the gateway read its config file again. */
export type ReloadTrigger = 'file changed' | 'SIGHUP';

/** Where a version put in force came from. */
export type ConfigOrigin = 'file' | 'admin' | 'cluster';

export type AppliedListener = (routing: RoutingConfig, origin: ConfigOrigin) => void;

/**
 * The routing configuration in force, and its live reload: the --config file is watched (polled
 * with stat, which survives in-place writes, atomic renames and ConfigMap symlink swaps) and read
 * again on SIGHUP. A valid new version is applied in one step (UpstreamPool.apply, then the route
 * table): requests in flight finish where they were sent, new ones follow the new routes. An
 * invalid one is refused and logged with every problem; the running version stays. Versions also
 * come from the admin API and, in a cluster, from the other members (ClusterConfigSync).
 */
@Injectable()
export class RunningConfig implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Config');
  private readonly listeners: AppliedListener[] = [];
  private stopWatching: (() => void) | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private current: RoutingConfig;
  private readHash: string;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ROUTING_CONFIG) routing: RoutingConfig,
    private readonly pool: UpstreamPool,
    private readonly router: Router,
    private readonly metrics: MetricsService,
    @Optional() @Inject(SHARED_STORE) private readonly store?: SharedStore | null,
  ) {
    this.current = routing;
    this.readHash = routing.hash;
    metrics.configHash = routing.hash;
  }

  /** The version in force. */
  get routing(): RoutingConfig {
    return this.current;
  }

  /** The hash of the document last read from this instance's file (or its flags): what a stored version was derived from. */
  get fileHash(): string {
    return this.readHash;
  }

  /** Hears every version put in force after the start, and where it came from. */
  onApplied(listener: AppliedListener): void {
    this.listeners.push(listener);
  }

  async onModuleInit(): Promise<void> {
    const path = this.config.configPath;
    if (path === undefined) return;
    process.on('SIGHUP', this.onHangUp);
    this.stopWatching = await watchFileChanges([path], () => this.settleThenReload(), CONFIG_POLL_MS);
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHangUp);
    this.stopWatching?.();
    clearTimeout(this.settleTimer);
  }

  /** Reads the file again and applies it if it is valid. @returns whether the new version was applied. */
  reloadFile(trigger: ReloadTrigger): boolean {
    const path = this.config.configPath;
    if (path === undefined) return false;
    let next: RoutingConfig;
    try {
      next = resolveConfigDocument(readConfigDocument(path), this.config);
    } catch (error) {
      const problems = error instanceof ConfigFileError ? error.problems : [String(error)];
      this.metrics.configReloads.failure++;
      this.logger.error(`${path} (${trigger}) refused, still running version ${this.current.hash}: ${problems.join('; ')}`);
      return false;
    }
    this.metrics.configReloads.success++;
    if (this.store && this.config.configSource === 'redis') {
      this.logger.warn(`${path} (${trigger}) is valid but not applied: with ${sourceOf(this.config, 'configSource')}=redis the cluster's stored configuration wins`);
      return false;
    }
    const changed = next.hash !== this.readHash;
    this.readHash = next.hash;
    if (!changed) {
      this.logger.log(`${path} (${trigger}): unchanged, version ${next.hash}`);
      return true;
    }
    this.apply(next, 'file');
    this.logger.log(`${path} (${trigger}): applied version ${next.hash}: ${describe(next)}`);
    return true;
  }

  /**
   * Validates a document (the admin API's edit, or another member's version) against the flags and
   * puts it in force. @throws ConfigFileError listing what is wrong with it; nothing changes then
   */
  applyDocument(document: unknown, origin: ConfigOrigin, trigger: string): RoutingConfig {
    const next = resolveConfigDocument(document, this.config);
    this.apply(next, origin);
    this.logger.log(`${trigger}: applied version ${next.hash}: ${describe(next)}`);
    return next;
  }

  /** Puts a version in force: the pool first (so every route's service exists), then the routes. */
  private apply(next: RoutingConfig, origin: ConfigOrigin): void {
    this.pool.apply(next);
    this.router.use(next);
    this.current = next;
    this.metrics.configHash = next.hash;
    for (const listener of this.listeners) listener(next, origin);
  }

  private readonly onHangUp = (): void => {
    this.reloadFile('SIGHUP');
  };

  private settleThenReload(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.reloadFile('file changed'), SETTLE_MS);
    this.settleTimer.unref();
  }
}

function describe(routing: RoutingConfig): string {
  const backends = [...routing.services.values()].reduce((sum, service) => sum + service.backends.length, 0);
  return `${routing.services.size} services, ${backends} backends, ${routing.routes.length} routes`;
}
