import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { UpstreamBody } from './upstream-transport.js';

/** A body that already is a stream (Node's http client's response, or a rejoined one). */
export class StreamBody implements UpstreamBody {
  constructor(private readonly readable: Readable) {}

  pipeTo(res: ServerResponse): void {
    this.readable.pipe(res);
  }

  stream(): Readable {
    return this.readable;
  }

  destroy(): void {
    this.readable.destroy();
  }
}
