import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Logger, pino } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { prettyLineTarget } from './pretty-line.target.js';

type Destination = ReturnType<typeof pino.destination>;

/** Lines are written in batches of this many bytes… */
const BATCH_BYTES = 4_096;
/** …or at least this often, so a quiet gateway's lines do not wait for a full batch. */
const FLUSH_EVERY_MS = 1_000;

/**
 * The gateway's one pino logger: Nest's own logs (through nestjs-pino) and the access log share it.
 * It never blocks the event loop: on a terminal, pino-pretty formats in a worker thread, one line
 * per log (see pretty-line.transport.ts); otherwise JSON lines go out through an asynchronous
 * destination, in batches (Node writes to pipes synchronously on Linux, so a plain stdout write per
 * request would block, and a write per line would cost a system call each).
 */
@Injectable()
export class RootLogger implements OnApplicationShutdown {
  readonly pino: Logger;
  private readonly destination: Destination | undefined;
  private readonly flushTimer: NodeJS.Timeout | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const options = { level: config.logLevel, base: undefined };
    if (process.stdout.isTTY) {
      this.pino = pino({
        ...options,
        transport: { target: prettyLineTarget(), options: { colorize: true } },
      });
    } else {
      const destination = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
      this.destination = destination;
      this.pino = pino(options, destination);
      this.flushTimer = setInterval(() => destination.flush(), FLUSH_EVERY_MS);
      this.flushTimer.unref();
    }
  }

  /** Writes out what is still queued, so the last lines before a stop are not lost. */
  onApplicationShutdown(): void {
    clearInterval(this.flushTimer);
    this.destination?.flushSync();
  }
}
