import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { formatDuration } from '../config/duration.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

/** How often idle keep-alive connections are closed while draining. */
const IDLE_SWEEP_MS = 100;

/**
 * A clean stop: stop listening first, then close idle keep-alive connections, and answer every
 * request already in flight with `Connection: close` so its connection ends with it. Resolves once
 * every connection is gone, or after --shutdown-timeout, when the stragglers are cut.
 * The order matters: closing connections before the listener lets a client reconnect into a dying
 * listener and be reset.
 */
@Injectable()
export class GracefulShutdownService {
  private readonly logger = new Logger('Shutdown');
  private stopping: Promise<void> | undefined;
  /** True from the first signal on: every response from now on closes its connection. */
  draining = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Drains the server; calling it again (a second Ctrl+C) cuts what is left at once. */
  drain(reason: string): Promise<void> {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    if (this.stopping) {
      this.logger.warn(`${reason} again: cutting the connections still open`);
      server.closeAllConnections();
      return this.stopping;
    }
    this.draining = true;
    this.stopping = this.drainServer(server, reason);
    return this.stopping;
  }

  private async drainServer(server: Server, reason: string): Promise<void> {
    const timeoutMs = this.config.shutdownTimeoutMs;
    this.logger.log(`${reason}: no longer accepting connections; finishing requests in flight (at most ${formatDuration(timeoutMs)})`);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A response already under way when the drain began may still end without `Connection: close`;
    // its connection turns idle afterwards and is closed by this sweep.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = new AbortController();
    try {
      const finished = await Promise.race([
        closed.then(() => true),
        sleep(timeoutMs, false, { signal: deadline.signal }).catch(() => true),
      ]);
      if (!finished) {
        this.logger.warn(`requests still in flight after ${formatDuration(timeoutMs)}: cutting their connections`);
        server.closeAllConnections();
        await closed;
      }
    } finally {
      clearInterval(sweep);
      deadline.abort();
    }
    this.logger.log('every connection is closed');
  }
}
