import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type ApiKeysFile, ApiKeysFileError, keyHashOf, readApiKeysFile } from '../../config/api-keys-file.js';
import { ConfigError } from '../../config/config.error.js';
import { watchFileChanges } from '../../config/file-changes.js';
import { oncePerConfig } from '../../config/once-per-config.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { sourceOf } from '../../config/parse-gateway-config.js';
import { AuditLog } from '../../logging/audit-log.js';
import { Consumer } from './consumer.js';

/** Consumers by their key's hash. */
function tableOf(file: ApiKeysFile): ReadonlyMap<string, Consumer> {
  return new Map(file.consumers.map((entry) => [entry.keyHash, new Consumer(entry, file.roles)]));
}

/**
 * The --api-keys file as a lookup: which consumer, if any, a key belongs to. Read at start (a file
 * that cannot be used stops the start, exit 2) and again whenever it changes; a changed file that
 * cannot be used is logged and ignored, the keys in service stay.
 *
 * Keys are looked up by their SHA-256 digest, so a lookup's timing depends only on the digest,
 * which tells nothing about any key; the file never holds a key itself.
 */
@Injectable()
export class ApiKeys implements OnApplicationBootstrap, OnModuleDestroy {
  readonly enabled: boolean;
  private consumers: ReadonlyMap<string, Consumer> = new Map();
  /** Bumped by every reload, which makes every connection prove its key again. */
  private generation = 0;
  private readonly proved = new WeakMap<object, { readonly key: string; readonly consumer: Consumer; readonly generation: number }>();
  private stop: (() => void) | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly audit: AuditLog,
  ) {
    this.enabled = config.apiKeysPath !== undefined;
    this.consumers = ApiKeys.readAtStart(config);
  }

  /**
   * The consumers of the file at start; also called before the application is built, so a file that
   * cannot be used is one line and exit 2, not a stack trace (read once for both). @throws ConfigError naming --api-keys and the field
   */
  static readonly readAtStart = oncePerConfig((config: GatewayConfig): ReadonlyMap<string, Consumer> => {
    const path = config.apiKeysPath;
    if (path === undefined) return new Map();
    try {
      return tableOf(readApiKeysFile(path));
    } catch (error) {
      if (!(error instanceof ApiKeysFileError)) throw error;
      throw new ConfigError(`invalid ${sourceOf(config, 'apiKeysPath')} ${JSON.stringify(path)}: ${error.message}`);
    }
  });

  async onApplicationBootstrap(): Promise<void> {
    const path = this.config.apiKeysPath;
    if (path !== undefined) this.stop = await watchFileChanges([path], () => this.reload(path));
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  /** The consumer whose key this is, if any. */
  consumerFor(key: string): Consumer | undefined {
    return this.consumers.get(keyHashOf(key));
  }

  /**
   * The same, for a key sent on `connection`: a keep-alive connection sends the same key on every
   * request, so the consumer it proved is kept for it and the key is not hashed again. Only a key
   * this very connection presented and proved is compared with, so that comparison's timing can
   * tell the client nothing it did not know. A reload forgets them all.
   */
  consumerOn(connection: object, key: string): Consumer | undefined {
    const proved = this.proved.get(connection);
    if (proved !== undefined && proved.key === key && proved.generation === this.generation) return proved.consumer;
    const consumer = this.consumerFor(key);
    if (consumer !== undefined) this.proved.set(connection, { key, consumer, generation: this.generation });
    return consumer;
  }

  private reload(path: string): void {
    try {
      this.consumers = tableOf(readApiKeysFile(path));
      this.generation++;
      this.audit.record('api-keys-reloaded', { file: path, reason: `the file changed: ${this.consumers.size} consumers` });
    } catch (error) {
      if (!(error instanceof ApiKeysFileError)) throw error;
      this.audit.record('api-keys-rejected', { file: path, reason: `the file changed but cannot be used (${error.message}); the keys in service stay` });
    }
  }
}
