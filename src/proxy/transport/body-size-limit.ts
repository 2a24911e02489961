import { Transform, type TransformCallback } from 'node:stream';
import { BodyTooLargeError } from '../proxy-errors.js';

/**
 * Passes a body of unknown length (chunked) on while it stays within `limitBytes`. The chunk that
 * takes it past is not passed on: `onExceeded` is called, then the stream fails with
 * BodyTooLargeError, so the request it feeds is aborted and never ends as if its body were complete.
 */
export class BodySizeLimit extends Transform {
  private received = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly onExceeded: () => void,
  ) {
    super();
    // The refusal is reported through onExceeded; the error only stops whoever reads this stream,
    // and a reader that pipes it (http-proxy-middleware) listens for no errors.
    this.on('error', ignore);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.received <= this.limitBytes) return done(null, chunk);
    this.onExceeded();
    done(new BodyTooLargeError(this.limitBytes));
  }
}

function ignore(): void {}
