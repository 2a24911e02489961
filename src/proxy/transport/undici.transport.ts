import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { Upstream } from '../../balancer/upstream.js';
import type { Exchange } from '../exchange.js';
import { UpstreamTimeoutError } from '../proxy-errors.js';
import { type DeadlineList, type DeadlineNode, Deadlines } from './deadlines.js';
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

/** What a finished try points to instead of its exchange (see UndiciTry.exchange). */
const FINISHED = {} as Exchange;

/**
 * One try, as undici's dispatch handler: its callbacks are undici's own (the API its `request()` is
 * built on), so no Promise, response stream or AbortController is made per request. The response
 * body is written straight into the client's response, with backpressure both ways; only an error
 * answer kept for a retry is turned into a stream.
 *
 * Its deadlines are the transport's (Deadlines), dropped the moment they are not needed: undici's
 * own timers live on in a list until its next half-second sweep, which made them the largest share
 * of what survived into V8's old generation (and so of the major GCs).
 */
class UndiciTry implements Dispatcher.DispatchHandler, UpstreamBody, DeadlineNode {
  dueAt = 0;
  deadlineList: DeadlineList | undefined;
  previousDue: DeadlineNode | undefined;
  nextDue: DeadlineNode | undefined;
  private abortTry: ((error: Error) => void) | undefined;
  private resumeBody: (() => void) | undefined;
  /** Where the body goes: the client's response, or a stream for reading it. */
  private sink: ServerResponse | PassThrough | undefined;
  private responded = false;
  private ended = false;
  /** Chunks that came before anyone took the body (it is taken as soon as its head is handed over, so rarely any). */
  private early: Buffer[] | undefined;
  /** Why the try is being cut short, when it is: the client left, or a deadline passed. */
  private abortedWith: Error | undefined;
  private onDrain: (() => void) | undefined;

  /**
   * The request this try is for; let go once the try is over, because undici keeps finished
   * requests (and so their handlers) in its queue for a few hundred more, long enough for V8 to
   * move everything they reach into the old generation.
   */
  private exchange: Exchange;

  constructor(
    exchange: Exchange,
    private readonly events: TransportEvents,
    private readonly deadlines: Deadlines,
    private readonly writeTimeoutMs: number,
  ) {
    this.exchange = exchange;
    // First the wait for a response head.
    if (exchange.tryTimeoutMs > 0) deadlines.start(this, exchange.tryTimeoutMs);
  }

  /** Called by the exchange when its client goes away. */
  abort(): void {
    this.cut(ABORTED);
  }

  timedOut(): void {
    this.cut(new UpstreamTimeoutError(this.responded ? this.writeTimeoutMs : this.exchange.tryTimeoutMs));
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortTry = abort;
    if (this.abortedWith) abort(this.abortedWith);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    this.responded = true;
    this.resumeBody = resume;
    // From here on, silence in the body for --write-timeout.
    if (this.writeTimeoutMs > 0) this.deadlines.start(this, this.writeTimeoutMs);
    else this.deadlines.stop(this);
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
    const watched = this.deadlineList !== undefined;
    if (watched) this.deadlines.start(this, this.writeTimeoutMs);
    if (sink.write(chunk)) return true;
    // The client (or the reader) is slower than the backend: pause undici until it drains. The
    // backend is not the slow one then, so its silence deadline waits too.
    this.deadlines.stop(this);
    this.onDrain ??= () => {
      if (watched) this.deadlines.start(this, this.writeTimeoutMs);
      this.resumeBody!();
    };
    sink.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.ended = true;
    this.deadlines.stop(this);
    this.sink?.end();
    this.letGo();
  }

  onError(error: Error): void {
    this.deadlines.stop(this);
    // The client going away aborts the request on purpose: nothing failed at the backend.
    if (error === ABORTED || (error as { code?: string }).code === 'UND_ERR_ABORTED') return;
    if (this.sink instanceof PassThrough) this.sink.destroy(error);
    // undici resets a dead pooled connection with UND_ERR_SOCKET before any response byte.
    this.events.upstreamFailed(this.exchange, error, !this.responded && (error as { code?: string }).code === 'UND_ERR_SOCKET');
    this.letGo();
  }

  /** The try is over: nothing more will be reported, and its body has been handed on. */
  private letGo(): void {
    this.sink = undefined;
    this.exchange = FINISHED;
  }

  private cut(reason: Error): void {
    this.deadlines.stop(this);
    this.abortedWith ??= reason;
    this.abortTry?.(reason);
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
  private readonly deadlines = new Deadlines((attempt) => (attempt as UndiciTry).timedOut());

  constructor(
    upstreams: readonly Upstream[],
    /** The default; a service's own `writeTimeout` wins. */
    private readonly writeTimeoutMs: number,
  ) {
    for (const upstream of upstreams) this.openPool(upstream);
  }

  /** A backend left the configuration and its requests are done: its connections close. */
  forget(upstream: Upstream): void {
    const pool = this.pools.get(upstream);
    this.pools.delete(upstream);
    void pool?.destroy();
  }

  /** One pool per backend, opened with the gateway or when the backend joins. */
  private openPool(upstream: Upstream): Pool {
    const pool = new Pool(upstream.target.origin, { connections: upstream.maxSockets, pipelining: 1, connect: upstream.tlsConnect });
    this.pools.set(upstream, pool);
    return pool;
  }

  reportTo(events: TransportEvents): void {
    this.events = events;
  }

  send(exchange: Exchange): void {
    const { req, upstream } = exchange;
    const pool = this.pools.get(upstream!) ?? this.openPool(upstream!);
    // The request's own headers object, prepared for forwarding: undici copies what it sends.
    const headers: IncomingHttpHeaders = req.headers;
    for (const name of FRAMED_BY_UNDICI) if (headers[name] !== undefined) delete headers[name];
    const attempt = new UndiciTry(exchange, this.events!, this.deadlines, exchange.service?.settings.writeTimeoutMs ?? this.writeTimeoutMs);
    exchange.cancel = attempt;
    pool.dispatch(
      {
        path: upstream!.pathFor(exchange.target),
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: bodyOf(exchange),
        // The try's deadlines are its own (UndiciTry): none of undici's.
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      attempt,
    );
  }

  /** Closes every pool when the gateway stops (after the drain); requests still in flight are aborted. */
  async onModuleDestroy(): Promise<void> {
    this.deadlines.close();
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}
