import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { readUpTo } from './read-up-to.js';

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
 * ends or passes the limit; past the limit, what was read and the rest stream on together. A kept
 * body is then forwarded with a Content-Length. `body` is the request's body as read (the request
 * itself, or it through a size limit).
 */
export async function readRequestBody(req: IncomingMessage, limit: number, body: Readable = req): Promise<RequestBody> {
  const read = await readUpTo(body, limit, req.headers['content-length']);
  if ('overflow' in read) return { replay: 'streamed', stream: read.overflow };
  // Known in full now: every try sends it with its length, whatever framing the client used.
  delete req.headers['transfer-encoding'];
  req.headers['content-length'] = String(read.complete.length);
  return { replay: 'buffered', data: read.complete };
}

/** A request that declares no body (no Transfer-Encoding, no or a zero Content-Length): nothing to read or replay. */
export function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}
