import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { ProxyServer } from 'httpxy';
import { type Exchange, exchangeOf } from '../exchange.js';
import { responseHeaders } from './forwarded-headers.js';
import { UpstreamTimeoutError } from '../proxy-errors.js';
import { StreamBody } from './stream-body.js';
import type { TransportEvents, UpstreamTransport } from './upstream-transport.js';

/** The attempt's outgoing request, to know whether it rode a reused connection. */
const OUTGOING = Symbol('gateway.outgoing');
type AttemptRequest = IncomingMessage & { [OUTGOING]?: ClientRequest };

/** A pooled keep-alive connection the backend had already closed: nothing was processed. */
function isStaleConnection(error: unknown, outgoing: ClientRequest | undefined): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return outgoing?.reusedSocket === true && (code === 'ECONNRESET' || code === 'EPIPE');
}

/** Listeners httpxy adds to the client's response per try (the request, the response, its close). */
const LISTENERS_PER_TRY = 4;

/**
 * The design card's transport: one http-proxy-middleware instance on Node's http client, with
 * each backend's keep-alive agent. hpm writes nothing itself (selfHandleResponse, its default
 * plugins ejected); its events are turned into TransportEvents.
 */
export class HttpProxyMiddlewareTransport implements UpstreamTransport {
  private readonly proxy: RequestHandler;
  private events: TransportEvents | undefined;

  constructor(
    /** How long a backend may go silent in the middle of a body. */
    private readonly writeTimeoutMs: number,
  ) {
    this.proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
      // The exchange already holds the upstream; the per-request options copy takes its agent, and
      // the body to send when it is not the request stream itself (kept for retries, or re-joined).
      router: (req, _res, options) => {
        const { upstream, body, target } = exchangeOf(req)!;
        options.agent = upstream!.agent;
        if (body.replay === 'buffered') options.buffer = Readable.from([body.data], { objectMode: false });
        else if (body.replay === 'streamed' && body.stream !== req) options.buffer = body.stream;
        if (target === req.url) return upstream!.target;
        // The route stripped a prefix: the whole path (and query) goes in the target, the client's is ignored.
        options.ignorePath = true;
        return new URL(upstream!.pathFor(target), upstream!.target);
      },
      selfHandleResponse: true,
      ejectPlugins: true,
      plugins: [(server) => this.listen(server)],
    });
  }

  reportTo(events: TransportEvents): void {
    this.events = events;
  }

  send(exchange: Exchange): void {
    (exchange.req as AttemptRequest)[OUTGOING] = undefined;
    // httpxy adds 'close' listeners to the client's response on every try and none goes before the
    // response ends; a few tries pass Node's default of 10, which warns of a leak that is not one.
    if (exchange.retries > 0) exchange.res.setMaxListeners(exchange.res.getMaxListeners() + LISTENERS_PER_TRY);
    void this.proxy(exchange.req, exchange.res, exchange.next);
  }

  private listen(server: ProxyServer<IncomingMessage, ServerResponse>): void {
    server.on('proxyReq', (outgoing, req, res) => this.onOutgoing(outgoing, req, res));
    server.on('proxyRes', (proxyRes, req) => {
      // From the head on, the timeout is the body's: silence for --write-timeout (or the service's).
      (req as AttemptRequest)[OUTGOING]?.setTimeout(this.bodyTimeoutOf(exchangeOf(req)!));
      this.events!.upstreamResponded(exchangeOf(req)!, {
        status: proxyRes.statusCode ?? 502,
        statusMessage: proxyRes.statusMessage,
        headers: responseHeaders(proxyRes.rawHeaders),
        body: new StreamBody(proxyRes),
      });
    });
    // Without `req` (a target-less call) there is no request of ours to answer.
    server.on('error', (error, req) => {
      const exchange = req && exchangeOf(req);
      if (exchange) this.events!.upstreamFailed(exchange, error, isStaleConnection(error, (req as AttemptRequest)[OUTGOING]));
    });
  }

  private bodyTimeoutOf(exchange: Exchange): number {
    return exchange.service?.settings.writeTimeoutMs ?? this.writeTimeoutMs;
  }

  private onOutgoing(outgoing: ClientRequest, req: IncomingMessage, res: ServerResponse): void {
    (req as AttemptRequest)[OUTGOING] = outgoing;
    const exchange = exchangeOf(req)!;
    // http-proxy aborts it when the client leaves; the gateway may also stop it (a body over --max-body-size).
    exchange.cancel = { abort: () => outgoing.destroy() };
    // An idle timeout on the backend's socket: first the try's wait for a response head, then the
    // body's silence (set when the head arrives), so a download that keeps flowing is never cut.
    outgoing.setTimeout(exchange.tryTimeoutMs);
    outgoing.on('timeout', () => {
      // A full client buffer means the client is the slow one, not the backend: keep waiting.
      if (res.headersSent && res.writableNeedDrain) return;
      outgoing.destroy(new UpstreamTimeoutError(res.headersSent ? this.bodyTimeoutOf(exchange) : exchange.tryTimeoutMs));
    });
  }
}
