import fs from 'node:fs';

/** Lines are written once this many bytes are waiting… */
const BATCH_BYTES = 32 * 1_024;
/** …into buffers of this size (a line longer than what is left starts a new one). */
const BUFFER_BYTES = 64 * 1_024;
/** Most bytes waiting for a slow reader of the pipe; past it lines are dropped and counted, never blocking. */
const MAX_PENDING_BYTES = 16 * 1_024 * 1_024;

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
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private filled = 0;
  /** Full batches waiting for the write in flight. */
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
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

  /** Starts writing whatever is waiting (the periodic flush of a quiet gateway). */
  flush(): void {
    this.seal();
  }

  /**
   * Writes everything waiting before returning: for the last lines at a stop. (A batch the thread
   * pool is writing at that moment is not waited for, as with pino's own destination.)
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
    this.buffer = Buffer.allocUnsafe(BUFFER_BYTES);
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
    if (this.writing || this.queue.length === 0) return;
    const chunk = this.queue.length === 1 ? this.queue.pop()! : Buffer.concat(this.queue.splice(0));
    this.queuedBytes -= chunk.length;
    this.writing = true;
    fs.write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.writing = false;
      if (error) {
        // EAGAIN from a non-blocking pipe: try the same bytes again; anything else (the reader is
        // gone) cannot be helped, and is not worth stopping the gateway for.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') this.requeue(chunk);
      } else if (written < chunk.length) {
        this.requeue(chunk.subarray(written));
      }
      this.pump();
    });
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
