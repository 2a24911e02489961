import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Logger, pino } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

type Destination = ReturnType<typeof pino.destination>;

/**
 * The gateway's one pino logger: Nest's own logs (through nestjs-pino) and the access log share it.
 * It never blocks the event loop: on a terminal, pino-pretty formats in a worker thread; otherwise
 * JSON lines go out through an asynchronous destination (Node writes to pipes synchronously on
 * Linux, so a plain stdout write per request would block).
 */
@Injectable()
export class RootLogger implements OnApplicationShutdown {
  readonly pino: Logger;
  private readonly destination: Destination | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const options = { level: config.logLevel, base: undefined };
    if (process.stdout.isTTY) {
      this.pino = pino({
        ...options,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
      });
    } else {
      this.destination = pino.destination({ dest: 1, sync: false });
      this.pino = pino(options, this.destination);
    }
  }

  /** Writes out what is still queued, so the last lines before a stop are not lost. */
  onApplicationShutdown(): void {
    this.destination?.flushSync();
  }
}
