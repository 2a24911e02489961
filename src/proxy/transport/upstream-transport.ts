import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Exchange } from '../exchange.js';

/**
 * A backend's response body, still arriving. It is taken once: streamed straight into the client's
 * response (the usual case, which needs no stream object in between), read as a stream (to keep
 * an error answer while a retry is tried), or thrown away.
 */
export interface UpstreamBody {
  /** Streams the body into `res` with backpressure, and ends `res` when the body is complete. */
  pipeTo(res: ServerResponse): void;
  /** The body as a stream, for reading it. */
  stream(): Readable;
  /** Nobody wants the body (the client has gone): stop receiving it. */
  destroy(): void;
}

/** A backend's response head, with hop-by-hop headers already removed, and its body. */
export interface UpstreamResponse {
  readonly status: number;
  readonly statusMessage: string | undefined;
  /** As `writeHead` takes them: a flat `[name, value, …]` list or an object. */
  readonly headers: string[] | OutgoingHttpHeaders;
  readonly body: UpstreamBody;
}

/** How a transport reports an attempt; the proxy middleware implements it. */
export interface TransportEvents {
  /** The backend's response head arrived. */
  upstreamResponded(exchange: Exchange, response: UpstreamResponse): void;
  /**
   * The attempt failed: before a response (refused, reset, timed out) or in the middle of its body.
   * @param staleConnection a pooled keep-alive connection turned out to be dead before any response byte.
   */
  upstreamFailed(exchange: Exchange, error: Error, staleConnection: boolean): void;
}

/**
 * Sends one attempt of a request to `exchange.upstream` and reports what happens to its events. The request's
 * headers have already been prepared for forwarding; the transport streams the body and applies
 * --write-timeout (no response head, or a silent body, for that long: UpstreamTimeoutError).
 */
export interface UpstreamTransport {
  /** Who hears about attempts; called once, by the proxy middleware. */
  reportTo(events: TransportEvents): void;
  send(exchange: Exchange): void;
}

/** DI token of the UpstreamTransport chosen by --proxy-engine. */
export const UpstreamTransport = Symbol('UpstreamTransport');
