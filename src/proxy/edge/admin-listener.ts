import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { sourceOf } from '../../config/parse-gateway-config.js';
import { listenOn } from '../../lifecycle/listen-on.js';
import { isOwnPath } from '../../own-paths.js';
import { OwnEndpoints } from './own-endpoints.js';

/**
 * A second listener for the gateway's own endpoints (--admin-listen), so health, metrics and the
 * status page need not be exposed where clients connect. It serves the same Express application,
 * and so the same Nest controllers, as the main listener would.
 */
@Injectable()
export class AdminListener implements OnApplicationShutdown {
  private server: http.Server | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly ownEndpoints: OwnEndpoints,
  ) {}

  /**
   * Starts listening when --admin-listen is set; resolves with the bound address, if any.
   * @throws ListenError naming --admin-listen (or ADMIN_LISTEN) when the address cannot be bound
   */
  async listen(): Promise<AddressInfo | undefined> {
    const address = this.config.adminListen;
    if (!address) return undefined;
    const express = this.adapterHost.httpAdapter.getInstance<http.RequestListener>();
    const server = http.createServer((req, res) => (isOwnPath(req.url ?? '/') ? this.ownEndpoints.serve(req, res) : express(req, res)));
    this.server = server;
    return listenOn(server, address, sourceOf(this.config, 'adminListen'));
  }

  /** Closed last, after the drain: readiness stays reachable (and 503) while the gateway stops. */
  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
