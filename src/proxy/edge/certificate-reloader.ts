import { stat } from 'node:fs/promises';
import type { Server } from 'node:tls';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { readTlsPair, type TlsSettings, tlsSettings, UnusableTlsPairError } from './tls-files.js';

/** How often the files are looked at: a renewed certificate is served within twice this. */
const POLL_EVERY_MS = 1_000;

/**
 * Serves a renewed certificate without a restart. The files are polled (stat follows symlinks),
 * not watched: an atomic rename, a Kubernetes Secret's symlink swap and cert-manager's writes all
 * change what stat sees, where fs.watch loses a file replaced under it. A changed pair goes to new
 * connections through setSecureContext; open ones keep theirs. A pair that is not usable (the
 * certificate written, its key not yet) is logged once and ignored: the old pair stays.
 */
@Injectable()
export class CertificateReloader implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TLS');
  private timer: NodeJS.Timeout | undefined;
  /** What stat saw of both files when the pair in service (or the last refused one) was read. */
  private seen = '';
  private polling = false;
  /** What a renewal keeps: the minimum version and the client CA (a new context replaces the whole old one). */
  private settings: TlsSettings = {};

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.tlsCertPath === undefined) return;
    this.settings = tlsSettings(this.config);
    this.seen = await this.look();
    this.timer = setInterval(() => void this.poll(), POLL_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = await this.look();
      if (now !== this.seen) {
        this.seen = now;
        this.reload();
      }
    } finally {
      this.polling = false;
    }
  }

  /** Size, change time and inode of both files ('' for one missing mid-swap). */
  private async look(): Promise<string> {
    const describe = (path: string) =>
      stat(path).then(
        (file) => `${file.ino}:${file.size}:${file.mtimeMs}:${file.ctimeMs}`,
        () => '',
      );
    const [cert, key] = await Promise.all([describe(this.config.tlsCertPath!), describe(this.config.tlsKeyPath!)]);
    return `${cert}|${key}`;
  }

  private reload(): void {
    const { tlsCertPath, tlsKeyPath } = this.config;
    try {
      const pair = readTlsPair(tlsCertPath!, tlsKeyPath!);
      (this.adapterHost.httpAdapter.getHttpServer() as Server).setSecureContext({ ...pair, ...this.settings });
      this.logger.log(`certificate reloaded from ${tlsCertPath}: new connections get it`);
    } catch (error) {
      if (!(error instanceof UnusableTlsPairError)) throw error;
      this.logger.warn(`certificate files changed but cannot be used (${error.message}); still serving the previous certificate`);
    }
  }
}
