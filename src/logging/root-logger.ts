import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Logger, pino } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { BatchedLineWriter } from './batched-line-writer.js';
import { prettyLineTarget } from './pretty-line.target.js';

/** Waiting lines are written at least this often, so a quiet gateway's lines do not wait for a full batch. */
const FLUSH_EVERY_MS = 1_000;
/**
 * Longest a stop waits for the reader of stdout to take the last lines (a --workers primary pausing
 * its workers' pipes, a log shipper catching up); one that has stopped reading loses them instead.
 */
const LAST_LINES_WAIT_MS = 5_000;

/**
 * The gateway's one pino logger: Nest's own logs (through nestjs-pino) and the access log share it.
 * It never blocks the event loop: on a terminal, pino-pretty formats in a worker thread, one line
 * per log (see pretty-line.transport.ts); otherwise JSON lines go out through one
 * BatchedLineWriter on stdout, which the access log also writes its lines to directly.
 */
@Injectable()
export class RootLogger implements OnApplicationShutdown {
  readonly pino: Logger;
  /** Where JSON lines go when stdout is not a terminal; undefined on a terminal (lines are pretty-printed there). */
  readonly lines: BatchedLineWriter | undefined;
  private readonly flushTimer: NodeJS.Timeout | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const options = { level: config.logLevel, base: undefined };
    if (process.stdout.isTTY) {
      this.pino = pino({
        ...options,
        transport: { target: prettyLineTarget(), options: { colorize: true } },
      });
    } else {
      const lines = new BatchedLineWriter(1);
      this.lines = lines;
      this.pino = pino(options, lines);
      this.flushTimer = setInterval(() => lines.flush(), FLUSH_EVERY_MS);
      this.flushTimer.unref();
    }
  }

  /** Writes out what is still queued, so the last lines before a stop are not lost, waiting for a slow reader up to LAST_LINES_WAIT_MS. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.lines?.drain(LAST_LINES_WAIT_MS);
  }
}
