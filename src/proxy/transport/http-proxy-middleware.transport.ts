import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { ProxyServer } from 'httpxy';
import { type Exchange, exchangeOf } from '../exchange.js';
import { responseHeaders } from '../forwarded-headers.js';
import { UpstreamTimeoutError } from '../proxy-errors.js';
import type { TransportEvents, UpstreamTransport } from './upstream-transport.js';

/** The attempt's outgoing request, to know whether it rode a reused connection. */
const OUTGOING = Symbol('gateway.outgoing');
type AttemptRequest = IncomingMessage & { [OUTGOING]?: ClientRequest };

/** A pooled keep-alive connection the backend had already closed: nothing was processed. */
function isStaleConnection(error: unknown, outgoing: ClientRequest | undefined): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return outgoing?.reusedSocket === true && (code === 'ECONNRESET' || code === 'EPIPE');
}

/**
 * The design card's transport: one http-proxy-middleware instance on Node's http client, with
 * each backend's keep-alive agent. hpm writes nothing itself (selfHandleResponse, its default
 * plugins ejected); its events are turned into TransportEvents.
 */
export class HttpProxyMiddlewareTransport implements UpstreamTransport {
  private readonly proxy: RequestHandler;
  private events: TransportEvents | undefined;

  constructor(private readonly writeTimeoutMs: number) {
    this.proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
      // The exchange already holds the upstream; the per-request options copy takes its agent.
      router: (req, _res, options) => {
        const upstream = exchangeOf(req)!.upstream!;
        options.agent = upstream.agent;
        return upstream.target;
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
    void this.proxy(exchange.req, exchange.res, exchange.next);
  }

  private listen(server: ProxyServer<IncomingMessage, ServerResponse>): void {
    server.on('proxyReq', (outgoing, req, res) => this.onOutgoing(outgoing, req, res));
    server.on('proxyRes', (proxyRes, req) => {
      this.events!.upstreamResponded(exchangeOf(req)!, {
        status: proxyRes.statusCode ?? 502,
        statusMessage: proxyRes.statusMessage,
        headers: responseHeaders(proxyRes.rawHeaders),
        body: proxyRes,
      });
    });
    // Without `req` (a target-less call) there is no request of ours to answer.
    server.on('error', (error, req) => {
      const exchange = req && exchangeOf(req);
      if (exchange) this.events!.upstreamFailed(exchange, error, isStaleConnection(error, (req as AttemptRequest)[OUTGOING]));
    });
  }

  private onOutgoing(outgoing: ClientRequest, req: IncomingMessage, res: ServerResponse): void {
    (req as AttemptRequest)[OUTGOING] = outgoing;
    if (this.writeTimeoutMs > 0) {
      // An idle timeout on the backend's socket: it covers both the wait for the response
      // headers and silence in the middle of a body, and never cuts a download that keeps flowing.
      outgoing.setTimeout(this.writeTimeoutMs, () => {
        // A full client buffer means the client is the slow one, not the backend: keep waiting.
        if (res.headersSent && res.writableNeedDrain) return;
        outgoing.destroy(new UpstreamTimeoutError(this.writeTimeoutMs));
      });
    }
  }
}
