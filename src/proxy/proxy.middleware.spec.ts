import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import type { HttpException } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { failAttempts } from '../../test/support/breaker.js';
import { BalancerService } from '../balancer/balancer.service.js';
import { Upstream } from '../balancer/upstream.js';
import { poolOf, serviceOver } from '../../test/support/service-pool.js';
import { routingFromFlags } from '../config/config-file.js';
import { Router } from '../routing/router.js';
import { UpstreamBreaker } from '../breaker/upstream-breaker.js';
import { parseGatewayConfig } from '../config/parse-gateway-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { Exchange } from './exchange.js';
import { ProxyMiddleware } from './proxy.middleware.js';
import type { AccessLog } from './record/access-log.js';
import { RequestRecorder } from './record/request-recorder.js';
import { ResponseWriter } from './response-writer.js';
import { StreamBody } from './transport/stream-body.js';
import type { TransportEvents, UpstreamTransport } from './transport/upstream-transport.js';
import { UpstreamTries } from './upstream-tries.js';
import { SecurityHeaders } from './edge/security-headers.js';
import { ClientCertificates } from './auth/client-certificates.js';
import { BalanceHintReader } from './balance-hints.js';
import { ClientAddressResolver } from './edge/client-address.js';

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';

/** A transport that sends nothing: the test answers each try it was handed. */
class FakeTransport implements UpstreamTransport {
  readonly sent: Exchange[] = [];
  /** Where the tries went, in order (an exchange moves on to its next backend, so noted at send). */
  readonly targets: string[] = [];
  private events!: TransportEvents;

  reportTo(events: TransportEvents): void {
    this.events = events;
  }

  send(exchange: Exchange): void {
    this.sent.push(exchange);
    this.targets.push(exchange.upstream!.url);
  }

  answer(status: number, body = '', headers: string[] = []): void {
    const exchange = this.sent.at(-1)!;
    this.events.upstreamResponded(exchange, {
      status,
      statusMessage: `reason ${status}`,
      headers: ['content-type', 'text/plain', ...headers],
      body: new StreamBody(Readable.from([Buffer.from(body)])),
    });
  }

  refuse(): void {
    this.failWith(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  }

  reset(): void {
    this.failWith(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  }

  failWith(error: Error): void {
    this.events.upstreamFailed(this.sent.at(-1)!, error, false);
  }
}

/** What the client got: a backend's answer written to the response, or the gateway's own through `next`. */
class ClientResponse extends Writable {
  status = 0;
  reason: string | undefined;
  headers: string[] | OutgoingHttpHeaders = [];
  headersSent = false;
  readonly chunks: Buffer[] = [];
  gatewayAnswer: HttpException | undefined;
  /** Set by Node on a real response; the middleware finds the request's exchange through it. */
  req: IncomingMessage | undefined;

  writeHead(status: number, reason: string | undefined, headers: string[] | OutgoingHttpHeaders): this {
    Object.assign(this, { status, reason, headers, headersSent: true });
    return this;
  }

  setHeader(): this {
    return this;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

function clientRequest(method = 'GET', headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from([]), { method, url: '/items', headers: { host: 'gateway', ...headers }, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
}

describe(ProxyMiddleware.name, () => {
  let a: Upstream;
  let b: Upstream;
  let transport: FakeTransport;
  let metrics: MetricsService;
  let balancer: BalancerService;

  function middleware(...flags: string[]): ProxyMiddleware {
    const config = parseGatewayConfig([`--backends=${A},${B}`, ...flags], {});
    const routing = routingFromFlags(config);
    const pool = poolOf(serviceOver([a, b], flags));
    balancer = new BalancerService(pool);
    balancer.onPanicRouted(() => metrics.panicRouted++);
    const recorder = new RequestRecorder(metrics, { recordProxied() {} } as unknown as AccessLog);
    const tries = new UpstreamTries(recorder, metrics, pool, config);
    const writer = new ResponseWriter(new SecurityHeaders(config));
    return new ProxyMiddleware(balancer, tries, writer, recorder, transport, config, new ClientCertificates(config), new Router(routing, pool), new BalanceHintReader(new ClientAddressResolver(config)));
  }

  /** Sends one request through the middleware; the test then answers its tries. */
  function send(proxy: ProxyMiddleware, method = 'GET', headers: Record<string, string> = {}): ClientResponse {
    const res = new ClientResponse();
    res.req = clientRequest(method, headers);
    proxy.use(res.req, res as unknown as ServerResponse, (error) => {
      res.gatewayAnswer = error as HttpException;
      res.end();
    });
    return res;
  }

  /** Lets the body reads, the backoff (at most 250 ms) and the writes run. */
  const settle = () => vi.advanceTimersByTimeAsync(300);

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    a = new Upstream(A, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    b = new Upstream(B, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    transport = new FakeTransport();
    metrics = new MetricsService();
  });

  afterEach(() => {
    a.close();
    b.close();
    vi.useRealTimers();
  });

  it('passes a backend answer through with its status, reason, headers and body, after one try', async () => {
    const res = send(middleware());
    transport.answer(200, 'hello', ['set-cookie', 'x=1']);
    await settle();
    expect([res.status, res.reason, res.body]).toEqual([200, 'reason 200', 'hello']);
    expect(res.headers).toEqual(expect.arrayContaining(['set-cookie', 'x=1', 'x-request-id']));
    expect(transport.targets).toEqual([A]);
  });

  describe('retry decisions', () => {
    it('retries a GET that met a 503 on the other backend, and delivers that answer', async () => {
      const res = send(middleware());
      transport.answer(503, 'busy');
      await settle();
      expect(transport.targets).toEqual([A, B]);
      transport.answer(200, 'from b');
      await settle();
      expect([res.status, res.body]).toEqual([200, 'from b']);
      expect(metrics.retries).toBe(1);
    });

    it('does not retry a POST whose connection was reset (the backend may have acted on it)', async () => {
      const res = send(middleware(), 'POST');
      await settle();
      transport.reset();
      await settle();
      expect(transport.targets).toEqual([A]);
      expect(res.gatewayAnswer?.getStatus()).toBe(502);
    });

    it('retries a POST whose connection was refused (nothing reached the backend)', async () => {
      send(middleware(), 'POST');
      await settle();
      transport.refuse();
      await settle();
      expect(transport.targets).toEqual([A, B]);
    });

    it('retries a POST that carries an Idempotency-Key after a reset', async () => {
      send(middleware(), 'POST', { 'idempotency-key': 'k-1' });
      await settle();
      transport.reset();
      await settle();
      expect(transport.targets).toEqual([A, B]);
    });

    it('stops after --retries more tries', async () => {
      const res = send(middleware('--retries=1'));
      transport.refuse();
      await settle();
      transport.refuse();
      await settle();
      expect(transport.targets).toEqual([A, B]);
      expect(res.gatewayAnswer?.getStatus()).toBe(502);
    });
  });

  describe('the last backend answer', () => {
    it('goes to the client when every try got an error answer: the last one, not a 502', async () => {
      const res = send(middleware('--retries=1'));
      transport.answer(503, 'a is busy');
      await settle();
      transport.answer(504, 'b timed out upstream');
      await settle();
      expect([res.status, res.reason, res.body, res.gatewayAnswer]).toEqual([504, 'reason 504', 'b timed out upstream', undefined]);
    });

    it('goes to the client when the tries after it got no answer at all', async () => {
      const res = send(middleware());
      transport.answer(503, 'a is busy');
      await settle();
      transport.refuse();
      await settle();
      transport.reset();
      await settle();
      expect(transport.targets).toEqual([A, B, A]);
      expect([res.status, res.body, res.gatewayAnswer]).toEqual([503, 'a is busy', undefined]);
    });

    it('gives way to the gateway’s own 502 only when no try got any answer', async () => {
      const res = send(middleware());
      for (let i = 0; i < 3; i++) {
        transport.refuse();
        await settle();
      }
      expect(res.status).toBe(0);
      expect(res.gatewayAnswer?.getStatus()).toBe(502);
    });
  });

  describe('panic routing', () => {
    it('sends to backends whose breakers are all open rather than answering 503', async () => {
      const proxy = middleware();
      await failAttempts(a.breaker, 5);
      await failAttempts(b.breaker, 5);
      const res = send(proxy);
      transport.answer(200, 'still here');
      await settle();
      expect([res.status, res.body]).toEqual([200, 'still here']);
      expect(metrics.panicRouted).toBe(1);
      expect(a.breaker.state).toBe('open');
    });

    it('answers 503 at once when every backend is at its concurrency cap', async () => {
      const proxy = middleware();
      for (const upstream of [a, b]) vi.spyOn(upstream, 'hasRoom', 'get').mockReturnValue(false);
      const res = send(proxy);
      await settle();
      expect(transport.sent).toEqual([]);
      expect(res.gatewayAnswer?.getStatus()).toBe(503);
    });
  });

  it('counts what a backend answered with a status in --breaker-statuses against its breaker, and nothing else', async () => {
    // The breakers here open after 5 failures in a row: 10 requests, round robin, are 5 at each.
    const proxy = middleware('--breaker-statuses=500', '--retries=0');
    for (let i = 0; i < 10; i++) {
      send(proxy);
      transport.answer(503);
      await settle();
    }
    expect([a.breaker.state, b.breaker.state]).toEqual(['closed', 'closed']);
    for (let i = 0; i < 10; i++) {
      send(proxy);
      transport.answer(500);
      await settle();
    }
    expect([a.breaker.state, b.breaker.state]).toEqual(['open', 'open']);
  });
});
