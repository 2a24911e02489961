import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1), the same list Go's httputil.ReverseProxy strips: they
 * describe one connection, so forwarding them would let a client or backend steer the other's
 * connection (for instance, close the gateway's pooled upstream socket).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Lengths of the hop-by-hop names: most headers are ruled out without lower-casing them. */
const HOP_BY_HOP_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP].map((name) => name.length));

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) -> `10.0.0.1`. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Rewrites a request's headers in place for forwarding (the proxy copies `req.headers`):
 * hop-by-hop headers go, except `Transfer-Encoding`, which Node's client needs to frame the body
 * it re-encodes, and the `trailers` token of `TE`, which gRPC relies on; `X-Forwarded-For` gains the client,
 * `X-Forwarded-Proto` (the scheme the client used with the gateway) and `X-Forwarded-Host` are set
 * (kept from the client only when it is a trusted proxy).
 */
export function prepareRequestHeaders(headers: IncomingHttpHeaders, socketAddress: string, trustProxy: boolean, proto: 'http' | 'https' = 'http'): void {
  if (headers.connection !== undefined) {
    for (const token of headers.connection.split(',')) {
      const name = token.trim().toLowerCase();
      // A client cannot use Connection to strip what the gateway itself relies on.
      if (name !== 'transfer-encoding' && name !== 'host') delete headers[name];
    }
    delete headers.connection;
  }
  if (headers['proxy-connection'] !== undefined) delete headers['proxy-connection'];
  if (headers['keep-alive'] !== undefined) delete headers['keep-alive'];
  if (headers['proxy-authorization'] !== undefined) delete headers['proxy-authorization'];
  if (headers.te !== undefined) {
    // As Go's ReverseProxy: only the `trailers` token survives (gRPC needs it).
    const keepsTrailers = String(headers.te)
      .split(',')
      .some((token) => token.trim().toLowerCase() === 'trailers');
    if (keepsTrailers) headers.te = 'trailers';
    else delete headers.te;
  }
  if (headers.trailer !== undefined) delete headers.trailer;
  if (headers.upgrade !== undefined) delete headers.upgrade;

  const client = unmapIpv4(socketAddress);
  const forwardedFor = headers['x-forwarded-for'] as string | undefined; // Node joins repeats with ', '
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client}` : client;
  if (!trustProxy || headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = proto;
  if (!trustProxy || headers['x-forwarded-host'] === undefined) {
    if (headers.host !== undefined) headers['x-forwarded-host'] = headers.host;
    else delete headers['x-forwarded-host'];
  }
}

/**
 * The backend's response headers minus hop-by-hop ones, as a flat `[name, value, …]` list for
 * `writeHead`, which keeps repeated headers (Set-Cookie) and the backend's spelling.
 */
export function responseHeaders(rawHeaders: readonly string[]): string[] {
  return keptHeaders(rawHeaders, textAt);
}

/** The same as `responseHeaders`, for undici's raw header buffers (latin1, as HTTP/1.1 header bytes are). */
export function responseHeadersFromBuffers(rawHeaders: readonly Buffer[]): string[] {
  return keptHeaders(rawHeaders, latin1At);
}

const textAt = (raw: readonly string[], i: number) => raw[i];
const latin1At = (raw: readonly Buffer[], i: number) => raw[i].latin1Slice(0, raw[i].length);

/** The end-to-end headers of a flat `[name, value, …]` list, each read once, as strings. */
function keptHeaders<T>(rawHeaders: readonly T[], textOf: (raw: readonly T[], i: number) => string): string[] {
  let connectionTokens: Set<string> | undefined;
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = textOf(rawHeaders, i);
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      connectionTokens ??= new Set();
      for (const token of textOf(rawHeaders, i + 1).split(',')) connectionTokens.add(token.trim().toLowerCase());
      continue;
    }
    if (HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name.toLowerCase())) continue;
    kept.push(name, textOf(rawHeaders, i + 1));
  }
  // Connection may come after the headers it names: those are dropped now.
  if (!connectionTokens) return kept;
  const tokens = connectionTokens;
  return kept.filter((_, i, all) => !tokens.has(all[i - (i % 2)].toLowerCase()));
}

