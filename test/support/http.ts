import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  /** Header names and values as sent, case kept, repeats kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface RawRequestOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: Buffer | string;
  /** Source address on this machine (127.0.0.2, …): another client, as far as the gateway can tell. */
  readonly localAddress?: string;
  /** Reuse connections through this agent; by default each request has its own (and asks to close it). */
  readonly agent?: http.Agent;
  /** Send the body in this many chunks, without Content-Length (chunked transfer encoding). */
  readonly chunks?: number;
}

/**
 * One request over a fresh connection with node:http, for what supertest hides: exact request
 * headers, hop-by-hop ones included, raw response headers and the client's source address.
 */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      localAddress: options.localAddress,
      agent: options.agent ?? false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
      );
    });
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body && options.chunks && options.chunks > 1) {
      const size = Math.ceil(body.length / options.chunks);
      for (let offset = 0; offset < body.length; offset += size) req.write(body.subarray(offset, offset + size));
      req.end();
    } else {
      req.end(body);
    }
  });
}
