import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Injectable } from '@nestjs/common';
import { BalanceHintReader } from '../balance-hints.js';
import { BalancerService } from '../../balancer/balancer.service.js';
import type { Upstream } from '../../balancer/upstream.js';
import { GracefulShutdownService } from '../../lifecycle/graceful-shutdown.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { sendHttpException } from '../edge/error-response.js';
import { SecurityHeaders } from '../edge/security-headers.js';
import { NoRouteError, NoUpstreamAvailableError, UpstreamUnreachableError } from '../proxy-errors.js';
import { Router } from '../../routing/router.js';
import { AccessLog } from '../record/access-log.js';
import { requestIdHeader } from '../request-identity.js';
import { describeFailure } from '../try-failure.js';
import { responseHeaders } from './forwarded-headers.js';

/**
 * WebSocket tunnels, whichever --proxy-engine serves plain requests: the upgrade request goes to the
 * backend the balancer picks (node:http's client, with the upstream's TLS settings); its 101 is passed
 * to the client and then bytes flow both ways untouched until either side closes. A backend that
 * answers anything else has that answer passed on. Open tunnels are the gauge
 * `gateway_websocket_connections`; on shutdown they stay open until --shutdown-timeout, then are cut.
 */
@Injectable()
export class WebSocketTunnels {
  private readonly open = new Set<Socket>();

  constructor(
    private readonly balancer: BalancerService,
    private readonly router: Router,
    private readonly metrics: MetricsService,
    private readonly accessLog: AccessLog,
    private readonly security: SecurityHeaders,
    shutdown: GracefulShutdownService,
    private readonly hints: BalanceHintReader,
  ) {
    shutdown.onCut(() => {
      for (const socket of this.open) socket.destroy();
    });
  }

  /**
   * Sends the upgrade request (its headers already prepared for forwarding) to a backend. `res` is
   * the client's answer while there is no tunnel (502, 503, or the backend's refusal).
   */
  connect(req: IncomingMessage, res: ServerResponse, client: Socket, head: Buffer): void {
    const startedAt = performance.now();
    const routed = this.router.route(req);
    const upstream = routed && this.balancer.pick(routed.service, this.hints.hintsFor(routed.service, req));
    if (!upstream) {
      sendHttpException(res, routed ? new NoUpstreamAvailableError() : new NoRouteError(), { ...this.security.own, ...requestIdHeader(req) });
      return;
    }
    // Hop-by-hop, so stripped for forwarding; a WebSocket handshake needs both.
    req.headers.connection = 'Upgrade';
    req.headers.upgrade = 'websocket';
    const outgoing = this.request(upstream, req, this.router.targetOf(routed, req.url ?? '/'));
    const { tryTimeoutMs, writeTimeoutMs } = routed.service.settings;
    const connectTimeoutMs = tryTimeoutMs ?? writeTimeoutMs;
    outgoing.setTimeout(connectTimeoutMs, () => outgoing.destroy(new Error(`backend did not answer the upgrade within ${connectTimeoutMs} ms`)));
    // The client leaving before the backend answered ends the attempt.
    const abandon = () => outgoing.destroy();
    client.once('close', abandon);
    outgoing.on('upgrade', (answer: IncomingMessage, backend: Socket, backendHead: Buffer) => {
      client.off('close', abandon);
      outgoing.setTimeout(0);
      this.join(req, client, head, answer, backend, backendHead, upstream, startedAt);
    });
    outgoing.on('response', (answer: IncomingMessage) => {
      // The backend refused the upgrade: its answer goes to the client as it came.
      client.off('close', abandon);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.rawHeaders));
      answer.pipe(res);
      res.once('finish', () => this.accessLog.recordTunnel(req, answer.statusCode ?? 502, upstream.url, performance.now() - startedAt, 'the backend refused the upgrade'));
    });
    outgoing.on('error', (error: Error) => {
      client.off('close', abandon);
      if (client.destroyed) return;
      sendHttpException(res, new UpstreamUnreachableError(error), { ...this.security.own, ...requestIdHeader(req) });
      this.accessLog.recordTunnel(req, 502, upstream.url, performance.now() - startedAt, describeFailure(error));
    });
    outgoing.end();
  }

  /** @param path the request target to send (the route may have stripped a prefix) */
  private request(upstream: Upstream, req: IncomingMessage, path: string): http.ClientRequest {
    const { target, tlsConnect } = upstream;
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    const options = { host: target.hostname.replace(/^\[|\]$/g, ''), port, method: 'GET', path: upstream.pathFor(path), headers: req.headers, agent: false as const };
    if (target.protocol !== 'https:') return http.request(options);
    const secure: https.RequestOptions & ConnectionOptions = { ...options, ...tlsConnect };
    return https.request(secure);
  }

  /** The backend switched protocols: pass its 101 on, then join the two sockets. */
  private join(req: IncomingMessage, client: Socket, head: Buffer, answer: IncomingMessage, backend: Socket, backendHead: Buffer, upstream: Upstream, startedAt: number): void {
    if (client.destroyed) {
      backend.destroy();
      return;
    }
    const raw = answer.rawHeaders;
    let lines = `HTTP/1.1 101 ${answer.statusMessage || 'Switching Protocols'}\r\n`;
    for (let i = 0; i < raw.length; i += 2) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
    client.write(`${lines}\r\n`);
    if (backendHead.length > 0) client.write(backendHead);
    if (head.length > 0) backend.write(head);
    this.open.add(client);
    this.metrics.websocketConnections++;
    client.setNoDelay(true);
    backend.setNoDelay(true);
    client.pipe(backend);
    backend.pipe(client);
    let cause: string | null = null;
    // An error on either side ends both at once; a close ends the other once what it still has to send is sent.
    const failed = (error: Error) => {
      cause ??= describeFailure(error);
      client.destroy();
      backend.destroy();
    };
    client.on('error', failed);
    backend.on('error', failed);
    client.once('close', () => backend.destroySoon());
    backend.once('close', () => client.destroySoon());
    client.once('close', () => {
      this.open.delete(client);
      this.metrics.websocketConnections--;
      this.accessLog.recordTunnel(req, 101, upstream.url, performance.now() - startedAt, cause);
    });
  }
}
