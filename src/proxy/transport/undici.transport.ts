import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Upstream } from '../../balancer/upstream.js';
import type { Exchange } from '../exchange.js';
import { responseHeaderObject } from './forwarded-headers.js';
import { UpstreamTimeoutError } from '../proxy-errors.js';
import type { TransportEvents, UpstreamTransport } from './upstream-transport.js';

/** Request headers undici refuses to take from a caller: it frames the message itself. */
const FRAMED_BY_UNDICI = ['transfer-encoding', 'expect'] as const;

function bodyOf(exchange: Exchange): Buffer | Readable | null {
  const { body } = exchange;
  switch (body.replay) {
    case 'none':
      return null;
    case 'buffered':
      return body.data;
    case 'streamed':
      return body.stream;
    default: {
      const unexpected: never = body;
      throw new Error(`unknown body ${String(unexpected)}`);
    }
  }
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

/**
 * An alternative transport on undici (`--proxy-engine=undici`): one connection pool per backend.
 * Measured faster than Node's own http client under http-proxy-middleware (see the README's
 * benchmark); the design card's transport stays the default.
 */
export class UndiciTransport implements UpstreamTransport {
  private readonly pools = new Map<Upstream, Pool>();
  private events: TransportEvents | undefined;

  constructor(
    upstreams: readonly Upstream[],
    private readonly writeTimeoutMs: number,
    maxSocketsPerBackend: number,
  ) {
    for (const upstream of upstreams) {
      this.pools.set(upstream, new Pool(upstream.target.origin, { connections: maxSocketsPerBackend, pipelining: 1 }));
    }
  }

  reportTo(events: TransportEvents): void {
    this.events = events;
  }

  send(exchange: Exchange): void {
    const { req, upstream } = exchange;
    const headers: IncomingHttpHeaders = { ...req.headers };
    for (const name of FRAMED_BY_UNDICI) delete headers[name];
    const cancel = new AbortController();
    exchange.cancel = cancel;
    this.pools
      .get(upstream!)!
      .request({
        path: upstream!.pathFor(req.url ?? '/'),
        method: req.method as 'GET',
        headers,
        body: bodyOf(exchange),
        // The try's wait for a response head, then --write-timeout of silence in the body.
        headersTimeout: exchange.tryTimeoutMs,
        bodyTimeout: this.writeTimeoutMs,
        signal: cancel.signal,
      })
      .then(
        ({ statusCode, statusText, headers: responseHeaders, body }) => {
          body.once('error', (error) => this.failed(exchange, error, false, this.writeTimeoutMs));
          this.events!.upstreamResponded(exchange, {
            status: statusCode,
            statusMessage: statusText || undefined,
            headers: responseHeaderObject(responseHeaders),
            body,
          });
        },
        // undici resets a dead pooled connection with UND_ERR_SOCKET before any response byte.
        (error: Error) => this.failed(exchange, error, (error as { code?: string }).code === 'UND_ERR_SOCKET', exchange.tryTimeoutMs),
      );
  }

  private failed(exchange: Exchange, error: Error, staleConnection: boolean, timeoutMs: number): void {
    // The client going away aborts the request on purpose: nothing failed at the backend.
    if (error.name === 'AbortError' || (error as { code?: string }).code === 'UND_ERR_ABORTED') return;
    const reported = isTimeout(error) ? new UpstreamTimeoutError(timeoutMs) : error;
    this.events!.upstreamFailed(exchange, reported, staleConnection);
  }

  /** Closes every pool when the gateway stops (after the drain); requests still in flight are aborted. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}
