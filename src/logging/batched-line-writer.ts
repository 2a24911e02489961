import fs from 'node:fs';
import type { JsonLineEncoder } from './json-line-encoder.js';

/** Lines are written once this many bytes are waiting… */
const BATCH_BYTES = 32 * 1_024;
/** …into buffers of this size (a line longer than what is left starts a new one). */
const BUFFER_BYTES = 64 * 1_024;
/** Most bytes waiting for a slow reader of the pipe; past it lines are dropped and counted, never blocking. */
const MAX_PENDING_BYTES = 16 * 1_024 * 1_024;
/** Written buffers kept for reuse: a fresh 64 KiB buffer per batch is memory outside V8's heap that V8 counts, and collects for. */
const SPARE_BUFFERS = 4;

/**
 * The gateway's stdout for JSON lines: lines are copied into a buffer and written in batches of
 * 32 KiB by the thread pool (fs.write), so a line costs a memory copy and no system call of its
 * own, and the event loop never waits for the reader of the pipe (Node writes to pipes
 * synchronously on Linux). Nothing is written half: a write that the pipe takes in part continues
 * with the rest. A reader that falls 16 MiB behind loses lines rather than the gateway's memory;
 * `dropped` counts them.
 *
 * pino writes Nest's logs through it too (it is pino's destination), so every line of the process
 * goes out through one writer, in order.
 */
export class BatchedLineWriter {
  private buffer: Buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private filled = 0;
  /** Full batches waiting for the write in flight. */
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private readonly spare: Buffer[] = [];
  /** Waiting for everything queued to be out (drain). */
  private readonly idle: (() => void)[] = [];
  /** Lines lost to a reader that fell too far behind. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  /** Takes one line, newline included (pino calls this with each of its lines). */
  write(line: string): boolean {
    if (this.buffer.length - this.filled < line.length * 3) this.seal();
    if (line.length * 3 > this.buffer.length) {
      this.enqueue(Buffer.from(line));
    } else {
      this.filled += this.buffer.write(line, this.filled);
    }
    if (this.filled >= BATCH_BYTES && !this.writing) this.seal();
    return true;
  }

  /**
   * Lets `encoder` write a line of at most `maxBytes` straight into the batch buffer; false when a
   * line that long cannot be written that way (write it as a string instead). `endLine` follows.
   */
  beginLine(encoder: JsonLineEncoder, maxBytes: number): boolean {
    if (maxBytes > BUFFER_BYTES) return false;
    if (this.buffer.length - this.filled < maxBytes) this.seal();
    encoder.buffer = this.buffer;
    encoder.at = this.filled;
    return true;
  }

  endLine(encoder: JsonLineEncoder): void {
    this.filled = encoder.at;
    if (this.filled >= BATCH_BYTES && !this.writing) this.seal();
  }

  /** Starts writing whatever is waiting (the periodic flush of a quiet gateway). */
  flush(): void {
    this.seal();
  }

  /**
   * Writes everything waiting and resolves once it is out: for the last lines at a stop, however
   * slowly the reader takes them. After `limitMs` (a reader that stopped reading must not hold a
   * stop for ever) what is left is written synchronously, as far as the pipe takes it, unless a
   * write is still in flight (whose rest would then come after it, cutting a line in two).
   */
  async drain(limitMs: number): Promise<void> {
    this.seal();
    if (this.writing || this.queue.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle.push(resolve);
        timer = setTimeout(resolve, limitMs);
      });
      clearTimeout(timer);
    }
    if (!this.writing) this.flushSync();
  }

  /**
   * Writes everything waiting before returning. (A batch the thread pool is writing at that moment
   * is not waited for, as with pino's own destination: `drain` is the way to stop.)
   */
  flushSync(): void {
    this.seal(false);
    // A write may still be in flight in the thread pool; what is queued follows it.
    const pending = this.queue.splice(0);
    this.queuedBytes = 0;
    for (const chunk of pending) writeFully(this.fd, chunk);
  }

  /** Queues the buffer's lines; `start` false leaves them for the caller to write. */
  private seal(start = true): void {
    if (this.filled === 0) return;
    const chunk = this.buffer.subarray(0, this.filled);
    this.buffer = this.spare.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES);
    this.filled = 0;
    this.enqueue(chunk, start);
  }

  private enqueue(chunk: Buffer, start = true): void {
    if (this.queuedBytes + chunk.length > MAX_PENDING_BYTES) {
      this.dropped += countLines(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (start) this.pump();
  }

  private pump(): void {
    if (this.writing) return;
    if (this.queue.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    let chunk: Buffer;
    if (this.queue.length === 1) {
      chunk = this.queue.pop()!;
    } else {
      const parts = this.queue.splice(0);
      chunk = Buffer.concat(parts);
      for (const part of parts) this.recycle(part);
    }
    this.queuedBytes -= chunk.length;
    this.writing = true;
    fs.write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.writing = false;
      const again = (error as NodeJS.ErrnoException | null)?.code === 'EAGAIN';
      // Reused only once its bytes are out (or given up): a buffer still queued must not be filled again.
      if ((error && !again) || written === chunk.length) this.recycle(chunk);
      if (again) {
        // A non-blocking pipe that is full: the same bytes again, shortly (not in a loop of refusals).
        this.requeue(chunk);
        setTimeout(() => this.pump(), 1);
        return;
      }
      // Any other error (the reader is gone) cannot be helped, and is not worth stopping the gateway for.
      if (!error && written < chunk.length) this.requeue(chunk.subarray(written));
      this.pump();
    });
  }

  /** Keeps a batch buffer whose bytes are out, to fill again. */
  private recycle(chunk: Buffer): void {
    if (chunk.byteOffset === 0 && chunk.buffer.byteLength === BUFFER_BYTES && this.spare.length < SPARE_BUFFERS) {
      this.spare.push(Buffer.from(chunk.buffer, 0, BUFFER_BYTES));
    }
  }

  private requeue(rest: Buffer): void {
    this.queue.unshift(rest);
    this.queuedBytes += rest.length;
  }
}

function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
  return lines;
}

/** writeSync until every byte is out, waiting out EAGAIN (a non-blocking pipe that is full). */
function writeFully(fd: number, chunk: Buffer): void {
  let offset = 0;
  let waits = 0;
  while (offset < chunk.length) {
    try {
      offset += fs.writeSync(fd, chunk, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || ++waits > 1_000) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
