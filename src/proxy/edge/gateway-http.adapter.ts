import http from 'node:http';
import https from 'node:https';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { isWebSocketUpgrade } from '../transport/websocket-upgrade.js';
import { tlsServerOptions } from './tls-files.js';

/**
 * Nest's Express adapter, with the node server created from the gateway's timeouts and limits
 * (Nest's own creates it with Node's defaults and no way to pass them): HTTPS with --tls-cert.
 */
export class GatewayHttpAdapter extends ExpressAdapter {
  constructor(private readonly serverOptions: http.ServerOptions | https.ServerOptions) {
    super();
  }

  static fromConfig(config: GatewayConfig): GatewayHttpAdapter {
    const readTimeoutMs = Math.ceil(config.readTimeoutMs);
    return new GatewayHttpAdapter({
      // Read here, so a missing or mismatched file stops the start with a ConfigError (exit 2).
      ...tlsServerOptions(config),
      // --read-timeout bounds receiving a request's headers and body; Node answers 408 and closes.
      requestTimeout: readTimeoutMs,
      headersTimeout: readTimeoutMs,
      // Node checks those deadlines on this period; keep it well under the timeout so a 408 is on time.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(readTimeoutMs / 5) || 1_000)),
      // --max-header-size: a longer head is refused by the parser (HPE_HEADER_OVERFLOW), answered 431.
      maxHeaderSize: config.maxHeaderBytes,
      // Only WebSocket upgrades go to 'upgrade' (tunnelled); any other (h2c) is served as plain HTTP, its Upgrade stripped.
      shouldUpgradeCallback: isWebSocketUpgrade,
    });
  }

  override initHttpServer(): void {
    const tls = 'cert' in this.serverOptions;
    this.httpServer = tls ? https.createServer(this.serverOptions, this.getInstance()) : http.createServer(this.serverOptions, this.getInstance());
  }
}
