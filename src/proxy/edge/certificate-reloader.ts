import type { Server } from 'node:tls';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { watchFileChanges } from '../../config/file-changes.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { AuditLog } from '../../logging/audit-log.js';
import { readTlsPair, type TlsSettings, tlsSettings, UnusableTlsPairError } from './tls-files.js';

/**
 * Serves a renewed certificate without a restart: when --tls-cert or --tls-key changes (see
 * watchFileChanges: renames and symlink swaps included), the pair goes to new connections through
 * setSecureContext; open ones keep theirs. A pair that is not usable (the certificate written, its
 * key not yet) is logged and ignored: the old pair stays until both files agree.
 */
@Injectable()
export class CertificateReloader implements OnApplicationBootstrap, OnModuleDestroy {
  private stop: (() => void) | undefined;
  /** What a renewal keeps: the minimum version and the client CA (a new context replaces the whole old one). */
  private settings: TlsSettings = {};

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditLog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { tlsCertPath, tlsKeyPath } = this.config;
    if (tlsCertPath === undefined || tlsKeyPath === undefined) return;
    this.settings = tlsSettings(this.config);
    this.stop = await watchFileChanges([tlsCertPath, tlsKeyPath], () => this.reload(tlsCertPath, tlsKeyPath));
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  private reload(certPath: string, keyPath: string): void {
    try {
      const pair = readTlsPair(certPath, keyPath);
      (this.adapterHost.httpAdapter.getHttpServer() as Server).setSecureContext({ ...pair, ...this.settings });
      this.audit.record('certificate-reloaded', { file: certPath, reason: 'the certificate files changed: new connections get the new pair' });
    } catch (error) {
      if (!(error instanceof UnusableTlsPairError)) throw error;
      this.audit.record('certificate-rejected', { file: certPath, reason: `the files changed but cannot be used (${error.message}); still serving the previous pair` });
    }
  }
}
