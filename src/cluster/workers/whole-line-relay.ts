import fs from 'node:fs';
import type { Readable } from 'node:stream';

/** Past this many bytes waiting for the reader of our stdout, the workers' pipes are no longer read. */
const HIGH_WATER_BYTES = 1 << 20;
/** A "line" longer than this without a newline is passed on as it is rather than held. */
const MAX_PARTIAL_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/**
 * The primary's stdout, fed by every worker's stdout in whole lines only. A worker writes its log in
 * batches of up to 64 KiB (BatchedLineWriter), far past PIPE_BUF (4 KiB), so two workers writing to
 * one pipe could interleave in the middle of a line. Here each worker has a pipe of its own; the
 * primary copies from each up to its last newline and holds the rest (a line cut between two
 * writes) until the newline comes, so every line reaches stdout whole, in each worker's order.
 *
 * Writes go through the thread pool (fs.write), never blocking the primary's event loop, which
 * answers the workers' rate-limit calls. A reader that falls behind stops the copying (the sources
 * are paused), which backs up into the workers, whose writers drop and count lines past 16 MiB
 * (gateway_log_lines_dropped_total) rather than wait.
 */
export class WholeLineRelay {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private readonly sources = new Set<Readable>();
  private paused = false;
  private idle: (() => void)[] = [];
  private readonly sourcesEnded: (() => void)[] = [];

  constructor(private readonly fd: number) {}

  /** Copies `source` in whole lines until it ends; a last line without its newline gets one. */
  relay(source: Readable): void {
    let partial: Buffer | undefined;
    this.sources.add(source);
    if (this.paused) source.pause();
    source.on('data', (chunk: Buffer) => {
      const last = chunk.lastIndexOf(NEWLINE);
      if (last === -1) {
        partial = partial ? Buffer.concat([partial, chunk]) : chunk;
        if (partial.length > MAX_PARTIAL_BYTES) {
          this.write(partial);
          partial = undefined;
        }
        return;
      }
      const whole = chunk.subarray(0, last + 1);
      this.write(partial ? Buffer.concat([partial, whole]) : whole);
      partial = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : undefined;
    });
    source.once('close', () => {
      this.sources.delete(source);
      // A worker killed in the middle of a write leaves half a line: it stays a line of its own.
      if (partial) this.write(Buffer.concat([partial, Buffer.of(NEWLINE)]));
      partial = undefined;
      if (this.sources.size === 0) for (const resolve of this.sourcesEnded.splice(0)) resolve();
    });
  }

  /** One line of the primary's own, newline included. */
  writeLine(line: string): void {
    this.write(Buffer.from(line));
  }

  /**
   * Resolves once every source has closed (a worker's last lines can still be in its pipe after it
   * exited) and their lines are written, or after `limitMs` with what there is.
   */
  async finished(limitMs: number): Promise<void> {
    if (this.sources.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.sourcesEnded.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs))),
      ]);
      clearTimeout(timer);
    }
    await this.flushed();
  }

  /** Resolves once everything queued so far is written (or could not be). */
  flushed(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private write(chunk: Buffer): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER_BYTES && !this.paused) {
      this.paused = true;
      for (const source of this.sources) source.pause();
    }
    this.pump();
  }

  private pump(): void {
    if (this.writing) return;
    if (this.queue.length === 0) {
      if (this.paused) {
        this.paused = false;
        for (const source of this.sources) source.resume();
      }
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const chunk = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue);
    this.queue.length = 0;
    this.writing = true;
    fs.write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.writing = false;
      this.queuedBytes -= error ? 0 : written;
      if (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          // A non-blocking pipe that is full: the same bytes again, shortly.
          this.queue.unshift(chunk);
          setTimeout(() => this.pump(), 1);
          return;
        }
        // The reader is gone: nothing to be done, and no reason to stop the gateway.
        this.queuedBytes -= chunk.length;
      } else if (written < chunk.length) {
        this.queue.unshift(chunk.subarray(written));
      }
      this.pump();
    });
  }
}
