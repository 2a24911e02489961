import type { KeptResponse } from './exchange.js';
import { StreamBody } from './transport/stream-body.js';
import type { UpstreamResponse } from './transport/upstream-transport.js';
import { readUpTo } from './transport/read-up-to.js';

/**
 * Largest backend error answer kept in memory while a retry is tried. Error pages are small; a
 * larger one is passed to the client instead of retried, rather than held.
 */
export const KEPT_RESPONSE_LIMIT_BYTES = 64 * 1_024;

/** What reading an answer to keep it gave. */
export type Keeping =
  | { readonly kept: KeptResponse }
  /** Too large to keep: the answer as it arrived, its body rejoined, to pass on instead of retrying. */
  | { readonly tooLarge: UpstreamResponse }
  /** The backend broke off in the middle of its body: there is nothing to keep. */
  | { readonly broken: Error };

function contentLengthOf(headers: UpstreamResponse['headers']): string | undefined {
  if (!Array.isArray(headers)) return headers['content-length'] as string | undefined;
  for (let i = 0; i < headers.length; i += 2) if (headers[i].length === 14 && headers[i].toLowerCase() === 'content-length') return headers[i + 1];
  return undefined;
}

/** Reads a backend's answer in full, up to KEPT_RESPONSE_LIMIT_BYTES, so it can be passed on later. */
export async function keepResponse(response: UpstreamResponse): Promise<Keeping> {
  let read;
  try {
    read = await readUpTo(response.body.stream(), KEPT_RESPONSE_LIMIT_BYTES, contentLengthOf(response.headers));
  } catch (error) {
    return { broken: error as Error };
  }
  const { status, statusMessage, headers } = response;
  if ('overflow' in read) return { tooLarge: { status, statusMessage, headers, body: new StreamBody(read.overflow) } };
  return { kept: { status, statusMessage, headers, body: read.complete } };
}
