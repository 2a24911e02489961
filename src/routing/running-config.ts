import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import { ConfigFileError, readConfigDocument, resolveConfigDocument } from '../config/config-file.js';
import { watchFileChanges } from '../config/file-changes.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { ROUTING_CONFIG, type RoutingConfig } from '../config/routing-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Router } from './router.js';

/** How often the config file is looked at: a change is applied within this plus SETTLE_MS. */
const CONFIG_POLL_MS = 250;
/** An editor or `kubectl` may write a file in several steps: read it once it has been still this long. */
const SETTLE_MS = 100;

/** What made the gateway read its config file again. */
export type ReloadTrigger = 'file changed' | 'SIGHUP';

/**
 * The routing configuration in force, and its live reload: the --config file is watched (polled
 * with stat, which survives in-place writes, atomic renames and ConfigMap symlink swaps) and read
 * again on SIGHUP. A valid new version is applied in one step (UpstreamPool.apply, then the route
 * table): requests in flight finish where they were sent, new ones follow the new routes. An
 * invalid one is refused and logged with every problem; the running version stays.
 */
@Injectable()
export class RunningConfig implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Config');
  private stopWatching: (() => void) | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private current: RoutingConfig;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ROUTING_CONFIG) routing: RoutingConfig,
    private readonly pool: UpstreamPool,
    private readonly router: Router,
    private readonly metrics: MetricsService,
  ) {
    this.current = routing;
    metrics.configHash = routing.hash;
  }

  /** The version in force. */
  get routing(): RoutingConfig {
    return this.current;
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
    if (next.hash === this.current.hash) {
      this.logger.log(`${path} (${trigger}): unchanged, version ${next.hash}`);
      return true;
    }
    this.apply(next);
    this.logger.log(`${path} (${trigger}): applied version ${next.hash}: ${describe(next)}`);
    return true;
  }

  /** Puts a version in force: the pool first (so every route's service exists), then the routes. */
  apply(next: RoutingConfig): void {
    this.pool.apply(next);
    this.router.use(next);
    this.current = next;
    this.metrics.configHash = next.hash;
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
