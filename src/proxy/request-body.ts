import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/** A request's body as the transports send it. */
export type RequestBody =
  /** No body: nothing to send, anything can be resent. */
  | { readonly replay: 'none' }
  /** Read in full and kept: every try sends these bytes. */
  | { readonly replay: 'buffered'; readonly data: Buffer }
  /** Too large to keep: sent once, from this stream. */
  | { readonly replay: 'streamed'; readonly stream: Readable };

export const NO_BODY: RequestBody = { replay: 'none' };

/**
 * Reads a request body of up to `limit` bytes into memory so a retry can send it again (as NGINX
 * buffers request bodies). A body announced larger than the limit is not read at all: it streams
 * to the first backend from the request itself. A body of unknown length (chunked) is read until it
 * ends or passes the limit; past the limit, what was read and the rest stream on together.
 */
export async function readRequestBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  const announced = req.headers['content-length'];
  if (announced !== undefined && Number(announced) > limit) return { replay: 'streamed', stream: req };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > limit) {
      // Too large after all: hand what was read, then the rest, to a single stream.
      const stream = new PassThrough();
      for (const read of chunks) stream.write(read);
      req.pipe(stream);
      return { replay: 'streamed', stream };
    }
  }
  return { replay: 'buffered', data: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) };
}
