import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { Upstream } from '../../balancer/upstream.js';
import type { Exchange } from '../exchange.js';
import { UpstreamTimeoutError } from '../proxy-errors.js';
import { responseHeadersFromBuffers } from './forwarded-headers.js';
import type { TransportEvents, UpstreamBody, UpstreamTransport } from './upstream-transport.js';

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

const ABORTED = Object.assign(new Error('the client went away'), { name: 'AbortError' });

/**
 * One try, as undici's dispatch handler: its callbacks are undici's own (the API its `request()` is
 * built on), so no Promise, response stream or AbortController is made per request. The response
 * body is written straight into the client's response, with backpressure both ways; only an error
 * answer kept for a retry is turned into a stream.
 */
class UndiciTry implements Dispatcher.DispatchHandler, UpstreamBody {
  private abortTry: ((error: Error) => void) | undefined;
  private resumeBody: (() => void) | undefined;
  /** Where the body goes: the client's response, or a stream for reading it. */
  private sink: ServerResponse | PassThrough | undefined;
  private responded = false;
  private ended = false;
  private aborted = false;
  /** Chunks that came before anyone took the body (it is taken as soon as its head is handed over, so rarely any). */
  private early: Buffer[] | undefined;

  constructor(
    private readonly exchange: Exchange,
    private readonly events: TransportEvents,
    private readonly writeTimeoutMs: number,
  ) {}

  /** Called by the exchange when its client goes away. */
  abort(): void {
    this.aborted = true;
    this.abortTry?.(ABORTED);
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortTry = abort;
    if (this.aborted) abort(ABORTED);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    this.responded = true;
    this.resumeBody = resume;
    this.events.upstreamResponded(this.exchange, {
      status: statusCode,
      statusMessage: statusText || undefined,
      headers: responseHeadersFromBuffers(rawHeaders),
      body: this,
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    const sink = this.sink;
    if (sink === undefined) {
      (this.early ??= []).push(chunk);
      return true;
    }
    if (sink.destroyed) return true;
    if (sink.write(chunk)) return true;
    // The client (or the reader) is slower than the backend: pause undici until it drains.
    sink.once('drain', this.resumeBody!);
    return false;
  }

  onComplete(): void {
    this.ended = true;
    this.sink?.end();
  }

  onError(error: Error): void {
    // The client going away aborts the request on purpose: nothing failed at the backend.
    if (error === ABORTED || (error as { code?: string }).code === 'UND_ERR_ABORTED') return;
    if (this.sink instanceof PassThrough) this.sink.destroy(error);
    const code = (error as { code?: string }).code;
    const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const reported = timedOut ? new UpstreamTimeoutError(this.responded ? this.writeTimeoutMs : this.exchange.tryTimeoutMs) : error;
    // undici resets a dead pooled connection with UND_ERR_SOCKET before any response byte.
    this.events.upstreamFailed(this.exchange, reported, !this.responded && code === 'UND_ERR_SOCKET');
  }

  pipeTo(res: ServerResponse): void {
    this.takeBody(res);
  }

  stream(): Readable {
    const stream = new PassThrough();
    this.takeBody(stream);
    return stream;
  }

  private takeBody(sink: ServerResponse | PassThrough): void {
    this.sink = sink;
    if (this.early) for (const chunk of this.early.splice(0)) sink.write(chunk);
    if (this.ended) sink.end();
  }

  destroy(): void {
    this.abort();
  }
}

/**
 * The undici transport (`--proxy-engine=undici`): one connection pool per backend, requests sent
 * through undici's dispatch API. Measured the fastest way to talk to backends from Node (see the
 * README's benchmark).
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
    // The request's own headers object, prepared for forwarding: undici copies what it sends.
    const headers: IncomingHttpHeaders = req.headers;
    for (const name of FRAMED_BY_UNDICI) if (headers[name] !== undefined) delete headers[name];
    const attempt = new UndiciTry(exchange, this.events!, this.writeTimeoutMs);
    exchange.cancel = attempt;
    this.pools.get(upstream!)!.dispatch(
      {
        path: upstream!.pathFor(req.url ?? '/'),
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: bodyOf(exchange),
        // The try's wait for a response head, then --write-timeout of silence in the body.
        headersTimeout: exchange.tryTimeoutMs,
        bodyTimeout: this.writeTimeoutMs,
      },
      attempt,
    );
  }

  /** Closes every pool when the gateway stops (after the drain); requests still in flight are aborted. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}
