import type { Server } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { formatDuration } from '../config/duration.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

/** How often idle keep-alive connections are closed while draining. */
const IDLE_SWEEP_MS = 100;
/**
 * How long after the listener closes before idle connections are: one accepted just before it
 * closed has not sent its request yet and counts as idle, and closing it would drop that request.
 */
const IDLE_CLOSE_GRACE_MS = 250;

/**
 * A clean stop for rolling deploys. First the drain delay (--drain-delay): readiness answers 503
 * at once so the orchestrator stops sending traffic, while requests that still arrive are served
 * (their responses close their connections, so clients reconnect elsewhere). Then the listener
 * closes, idle keep-alive connections are closed, and every request in flight is answered with
 * `Connection: close`. Resolves once every connection is gone, or after --shutdown-timeout, when
 * the stragglers are cut. The order matters: closing connections before the listener lets a client
 * reconnect into a dying listener and be reset.
 */
@Injectable()
export class GracefulShutdownService {
  private readonly logger = new Logger('Shutdown');
  private stopping: Promise<void> | undefined;
  /** Ends the drain delay early (a second signal). */
  private readonly skipDelay = new AbortController();
  /** True from the first signal on: readiness is 503 and every response closes its connection. */
  draining = false;
  private readonly drainListeners: (() => void)[] = [];
  /** What else holds connections the HTTP server does not track (WebSocket tunnels), cut with the rest. */
  private readonly cutListeners: (() => void)[] = [];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Hears the moment the drain begins (once). */
  onDrainStart(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  /** Hears the moment the connections still open are cut (--shutdown-timeout passed, or a second signal). */
  onCut(listener: () => void): void {
    this.cutListeners.push(listener);
  }

  private cutAll(server: Server): void {
    server.closeAllConnections();
    for (const listener of this.cutListeners) listener();
  }

  /** Drains the server; calling it again (a second Ctrl+C) cuts what is left at once. */
  drain(reason: string): Promise<void> {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    if (this.stopping) {
      this.logger.warn(`${reason} again: cutting the connections still open`);
      this.skipDelay.abort();
      this.cutAll(server);
      return this.stopping;
    }
    this.draining = true;
    for (const listener of this.drainListeners) listener();
    this.stopping = this.drainServer(server, reason);
    return this.stopping;
  }

  private async drainServer(server: Server, reason: string): Promise<void> {
    const { drainDelayMs, shutdownTimeoutMs: timeoutMs } = this.config;
    if (drainDelayMs > 0) {
      this.logger.log(`${reason}: readiness now 503; still serving for ${formatDuration(drainDelayMs)} while traffic moves away`);
      await sleep(drainDelayMs, undefined, { signal: this.skipDelay.signal }).catch(() => undefined);
    }
    this.logger.log(`${reason}: no longer accepting connections; finishing requests in flight (at most ${formatDuration(timeoutMs)})`);
    // Only stop accepting: http.Server#close would also close idle connections at once, including
    // any just accepted whose request is still on its way.
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
    // After the grace, idle keep-alive connections are closed, then again on every sweep: a response
    // that was under way when the drain began may end without `Connection: close` and leave one idle.
    let sweep: NodeJS.Timeout | undefined;
    const grace = setTimeout(() => {
      server.closeIdleConnections();
      sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    }, IDLE_CLOSE_GRACE_MS);
    const deadline = new AbortController();
    try {
      const finished = await Promise.race([
        closed.then(() => true),
        sleep(timeoutMs, false, { signal: deadline.signal }).catch(() => true),
      ]);
      if (!finished) {
        this.logger.warn(`requests still in flight after ${formatDuration(timeoutMs)}: cutting their connections`);
        this.cutAll(server);
        await closed;
      }
    } finally {
      clearTimeout(grace);
      clearInterval(sweep);
      deadline.abort();
    }
    this.logger.log('every connection is closed');
  }
}
