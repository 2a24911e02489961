import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONNECT_WAIT_MS } from '../cluster/redis-connection.js';
import { SHARED_STORE, type SharedStore } from '../cluster/shared-store.js';
import { ConfigFileError } from '../config/config-file.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import type { RoutingConfig } from '../config/routing-config.js';
import { RunningConfig } from './running-config.js';

/** Where the running configuration is kept (one key, so its version and content never disagree), and the channel that says a new version is there. */
const RECORD_KEY = 'config';
const CHANNEL = 'config';
/** Kept as long as Redis keeps anything: a year, renewed by every change. */
const KEEP_MS = 365 * 24 * 3_600_000;
/** How often each member looks for a version it missed (a lost message, a Redis outage): a change reaches every member within this. */
export const CONFIG_CATCH_UP_MS = 1_000;

/** The configuration as the cluster keeps it. */
interface StoredConfig {
  /** Grows by one with every change, whoever makes it. */
  readonly version: number;
  readonly hash: string;
  /** The hash of the file (or flags) document it was made from: a member started with the same file takes this version. */
  readonly fileHash: string;
  /** In the file's shape, admin changes included. */
  readonly document: unknown;
  readonly from: string;
}

/**
 * One running configuration across the cluster (the shared store: Redis with --redis-url, or the
 * primary process with --workers). A version put in force here from the file or the admin API is
 * stored with the next version number and announced; every member applies the stored version when
 * the announcement arrives, or within a second by reading it again (a missed message, a restart).
 * Whatever the store holds wins: two members that stored at the same moment both end on the one
 * written last, and a store that lost the record (Redis restarted empty) gets the running version
 * back from the first member to notice, or takes a newer member's. At start a member takes the
 * stored version when --config-source=redis, or when it was made from the same file as its own (so
 * admin changes survive a rolling restart); otherwise its own file wins and is stored. Only gateways
 * with something to share take part: a --config file, or the admin API (gateways that share Redis
 * for limits alone keep their own --backends, as before). A store that does not answer leaves each
 * member on what it has.
 */
@Injectable()
export class ClusterConfigSync implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Config');
  private readonly self = randomUUID();
  /** The stored version this member runs (or has stored). */
  private version = 0;
  /** `<version>:<hash>` of the stored record this member last applied or wrote: any other record is news. */
  private seen = '';
  /** A version put in force here while the store did not answer: stored as soon as it answers again. */
  private unshared: RoutingConfig | undefined;
  private timer: NodeJS.Timeout | undefined;
  private catchingUp = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly running: RunningConfig,
    @Inject(SHARED_STORE) private readonly store: SharedStore | null,
  ) {}

  /** Takes (or stores) the cluster's version before the gateway serves, waiting at most CONNECT_WAIT_MS for the store. */
  async onModuleInit(): Promise<void> {
    const store = this.store;
    // Gateways that share Redis only for limits and breakers, each with its own --backends, stay as they were.
    if (!store || !this.hasConfigurationToShare()) return;
    this.running.onApplied((routing, origin) => {
      if (origin !== 'cluster') void this.share(routing);
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)));
    await Promise.race([store.subscribe(CHANNEL, () => void this.catchUp()), waited]);
    await Promise.race([this.adoptAtStart(), waited]);
    clearTimeout(timer);
    this.timer = setInterval(() => void this.catchUp(), CONFIG_CATCH_UP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** A --config file, or the admin API: without either, the flags are this instance's own business. */
  private hasConfigurationToShare(): boolean {
    const { configPath, adminToken, adminListen } = this.config;
    return configPath !== undefined || (adminToken !== undefined && adminListen !== undefined);
  }

  private async adoptAtStart(): Promise<void> {
    let stored: StoredConfig | undefined;
    try {
      stored = await this.readRecord();
    } catch (error) {
      this.logger.warn(`the cluster's configuration could not be read (${describeError(error)}); starting with this instance's`);
      return;
    }
    const takesStored = stored !== undefined && (this.config.configSource === 'redis' || stored.fileHash === this.running.fileHash);
    if (stored && takesStored) this.adopt(stored);
    else await this.share(this.running.routing);
  }

  /** The stored record, when it is not the one this member knows: put it in force (or, when the store lost it, store ours again). */
  private async catchUp(): Promise<void> {
    if (this.catchingUp) return;
    this.catchingUp = true;
    try {
      // A change made here during an outage is newer than what the store holds.
      if (this.unshared) return await this.share(this.unshared);
      const stored = await this.readRecord();
      if (!stored) await this.share(this.running.routing);
      else if (keyOf(stored) !== this.seen) this.adopt(stored);
    } catch {
      // The store is down: this member keeps its version and looks again in a second.
    } finally {
      this.catchingUp = false;
    }
  }

  private adopt(stored: StoredConfig): void {
    this.version = stored.version;
    this.seen = keyOf(stored);
    if (stored.hash === this.running.routing.hash) return;
    try {
      this.running.applyDocument(stored.document, 'cluster', `cluster version ${stored.version}`);
    } catch (error) {
      const problems = error instanceof ConfigFileError ? error.problems.join('; ') : describeError(error);
      this.logger.error(`cluster version ${stored.version} (${stored.hash}) refused, still running version ${this.running.routing.hash}: ${problems}`);
    }
  }

  /** Stores a version put in force here as the cluster's next one, and announces it. */
  private async share(routing: RoutingConfig): Promise<void> {
    const store = this.store!;
    try {
      const stored = await this.readRecord();
      // Every worker sees the same file change: the first to store it speaks for all.
      if (stored?.hash === routing.hash) {
        this.version = stored.version;
        this.seen = keyOf(stored);
        this.unshared = undefined;
        return;
      }
      const version = Math.max(this.version, stored?.version ?? 0) + 1;
      const record: StoredConfig = { version, hash: routing.hash, fileHash: this.running.fileHash, document: routing.document, from: this.self };
      await store.put(RECORD_KEY, JSON.stringify(record), KEEP_MS);
      this.version = version;
      this.seen = keyOf(record);
      this.unshared = undefined;
      await store.publish(CHANNEL, String(version));
    } catch (error) {
      if (this.unshared !== routing) this.logger.warn(`version ${routing.hash} is in force here but could not be shared with the cluster yet (${describeError(error)})`);
      this.unshared = routing;
    }
  }

  private async readRecord(): Promise<StoredConfig | undefined> {
    const stored = await this.store!.read(RECORD_KEY);
    return stored && (JSON.parse(stored.value) as StoredConfig);
  }
}

function keyOf(stored: StoredConfig): string {
  return `${stored.version}:${stored.hash}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
