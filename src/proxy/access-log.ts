import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

/** What one access-log line says about a proxied request. */
export interface AccessLogEntry {
  readonly method: string;
  readonly url: string;
  /** What the client got; 499 when it went away before any answer (nginx's convention). */
  readonly status: number;
  /** The backend that answered (or was last tried); `-` when none was picked. */
  readonly backend: string;
  readonly durationMs: number;
}

/** Bytes buffered before a write: one syscall per few dozen lines instead of one per request. */
const BUFFER_BYTES = 4_096;

/**
 * One JSON line per proxied request on stdout, through pino. The destination is asynchronous and
 * buffered, because Node writes to a pipe synchronously on Linux: a log line per request would
 * otherwise block the event loop on every request. `--access-log=false` turns it off.
 */
@Injectable()
export class AccessLog implements OnApplicationShutdown {
  private readonly destination: ReturnType<typeof pino.destination> | undefined;
  private readonly logger: Logger | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    if (!config.accessLog) return;
    this.destination = pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES });
    // pino's default timestamp (epoch milliseconds): an ISO string would be formatted on every request.
    this.logger = pino({ base: null }, this.destination);
  }

  record(entry: AccessLogEntry): void {
    if (!this.logger) return;
    const query = entry.url.indexOf('?');
    this.logger.info({
      method: entry.method,
      // The query string stays out: it can carry secrets.
      path: query === -1 ? entry.url : entry.url.slice(0, query),
      status: entry.status,
      backend: entry.backend,
      ms: Math.round(entry.durationMs * 10) / 10,
    });
  }

  /** Writes out what is still buffered, so the last requests before a stop are not lost. */
  onApplicationShutdown(): void {
    this.destination?.flushSync();
  }
}
