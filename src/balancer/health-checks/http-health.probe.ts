import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable } from '@nestjs/common';
import type { Upstream } from '../upstream.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { HealthProbe } from './health-probe.js';

/**
 * `GET <prefix><--health-check-path>` on a connection of its own: a pass is a 2xx or 3xx answer
 * within --health-check-timeout; any other status, a refused or reset connection, or silence is a
 * failure. The check stays out of the backend's keep-alive pool, so it neither waits behind
 * proxied traffic for a socket nor counts against --max-sockets-per-backend.
 */
@Injectable()
export class HttpHealthProbe implements HealthProbe {
  private readonly path: string;
  private readonly timeoutMs: number;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.path = config.healthCheckPath;
    this.timeoutMs = config.healthCheckTimeoutMs;
  }

  check(upstream: Upstream, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const { request } = upstream.target.protocol === 'https:' ? https : http;
      const req = request(upstream.target, {
        method: 'GET',
        path: upstream.pathFor(this.path),
        agent: false,
      });
      // The timeout bounds the whole check, body included, not just one idle stretch of the socket.
      const timer = setTimeout(() => req.destroy(new Error(`health check timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      const stop = () => req.destroy(new Error('health checks stopped'));
      signal.addEventListener('abort', stop, { once: true });
      req.once('close', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stop);
        // Nothing after an answer or an error; otherwise the check ended without either, a failure.
        resolve(false);
      });
      req.once('error', () => resolve(false));
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 400);
        // The verdict is in the status; the body is read only so the exchange can finish.
        res.on('error', () => undefined);
        res.resume();
      });
      req.end();
    });
  }
}
