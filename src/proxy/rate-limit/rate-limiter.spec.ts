import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { HttpException } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseGatewayConfig } from '../../config/parse-gateway-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { ClientAddressResolver } from '../edge/client-address.js';
import { gatewayThrottlerOptions, RateLimiter } from './rate-limiter.js';
import { SlidingWindowThrottlerStorage } from './sliding-window.storage.js';
import { SecurityHeaders } from '../edge/security-headers.js';

/** What the limiter wrote to a response, if anything. */
interface RecordedResponse {
  headersSent: boolean;
  status?: number;
  headers?: Record<string, string | number>;
  body?: string;
  writeHead(status: number, headers: Record<string, string | number>): void;
  end(body: string): void;
  destroy(): void;
}

function fakeResponse(): RecordedResponse {
  return {
    headersSent: false,
    writeHead(status, headers) {
      this.status = status;
      this.headers = headers;
      this.headersSent = true;
    },
    end(body) {
      this.body = body;
    },
    destroy() {
      throw new Error('a 429 should never need to cut the connection');
    },
  };
}

/** A socket stands for one connection; the limiter caches its address per socket object. */
function fakeSocket(remoteAddress: string): { remoteAddress: string } {
  return { remoteAddress };
}

function fakeRequest(socket: { remoteAddress: string }, headers: IncomingHttpHeaders = {}): IncomingMessage {
  return { headers, socket } as unknown as IncomingMessage;
}

describe(RateLimiter.name, () => {
  const start = new Date('2025-01-01T00:00:00Z').getTime();
  let storage: SlidingWindowThrottlerStorage;
  let metrics: MetricsService;

  function limiter(...argv: string[]): RateLimiter {
    const config = parseGatewayConfig(argv, {});
    return new RateLimiter(gatewayThrottlerOptions(config), storage, config, metrics, new ClientAddressResolver(config), new SecurityHeaders(config));
  }

  async function admit(rateLimiter: RateLimiter, req: IncomingMessage): Promise<{ admitted: boolean; res: RecordedResponse }> {
    const res = fakeResponse();
    const refusal = await rateLimiter.admit(req, res as unknown as ServerResponse);
    return { admitted: refusal === undefined, res };
  }

  /** Sends `count` requests and returns whether each was admitted. */
  async function burst(rateLimiter: RateLimiter, req: IncomingMessage, count: number): Promise<boolean[]> {
    const results: boolean[] = [];
    for (let i = 0; i < count; i++) results.push((await admit(rateLimiter, req)).admitted);
    return results;
  }

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    storage = new SlidingWindowThrottlerStorage();
    metrics = new MetricsService();
  });

  afterEach(() => {
    storage.onApplicationShutdown();
    vi.useRealTimers();
  });

  it('admits up to the limit per second, then refuses', async () => {
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    expect(await burst(limiter('--rate-limit=3'), req, 5)).toEqual([true, true, true, false, false]);
  });

  it('writes nothing to the response of an admitted request', async () => {
    const { admitted, res } = await admit(limiter('--rate-limit=3'), fakeRequest(fakeSocket('10.0.0.1')));
    expect(admitted).toBe(true);
    expect(res.status).toBeUndefined();
    expect(res.body).toBeUndefined();
  });

  it("answers a refused request with 429 in Nest's HttpException JSON shape", async () => {
    const rateLimiter = limiter('--rate-limit=3');
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    await burst(rateLimiter, req, 3);
    const { admitted, res } = await admit(rateLimiter, req);
    expect(admitted).toBe(false);
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body!)).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Rate limit of 3 requests per second exceeded',
    });
    expect(res.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(res.body!),
    });
  });

  it('sends Retry-After and X-RateLimit-* headers with a 429', async () => {
    const rateLimiter = limiter('--rate-limit=3');
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    await burst(rateLimiter, req, 3);
    vi.setSystemTime(start + 200);
    const { res } = await admit(rateLimiter, req);
    const headers = res.headers!;
    expect(headers['retry-after']).toBe(1);
    expect(Number.isInteger(headers['retry-after'])).toBe(true);
    expect(headers['x-ratelimit-limit']).toBe(3);
    expect(headers['x-ratelimit-remaining']).toBe(0);
    expect(headers['x-ratelimit-reset']).toBe(headers['retry-after']);
  });

  it('never sends a Retry-After below one second', async () => {
    const rateLimiter = limiter('--rate-limit=1');
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    await admit(rateLimiter, req);
    vi.setSystemTime(start + 999);
    const { admitted, res } = await admit(rateLimiter, req);
    expect(admitted).toBe(false);
    expect(res.headers!['retry-after']).toBe(1);
  });

  it('counts refused requests in metrics.rateLimited', async () => {
    const rateLimiter = limiter('--rate-limit=3');
    await burst(rateLimiter, fakeRequest(fakeSocket('10.0.0.1')), 5);
    expect(metrics.rateLimited).toBe(2);
  });

  it('does not extend the penalty for a client that keeps sending', async () => {
    const rateLimiter = limiter('--rate-limit=3');
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    expect(await burst(rateLimiter, req, 3)).toEqual([true, true, true]);
    for (const elapsed of [100, 400, 700, 999]) {
      vi.setSystemTime(start + elapsed);
      expect(await burst(rateLimiter, req, 2)).toEqual([false, false]);
    }
    // The first burst is still counted at exactly one second (boundaries included), gone just after.
    vi.setSystemTime(start + 1_001);
    expect(await burst(rateLimiter, req, 4)).toEqual([true, true, true, false]);
  });

  it('gives clients with different addresses separate limits in client scope', async () => {
    const rateLimiter = limiter('--rate-limit=2');
    const first = fakeRequest(fakeSocket('10.0.0.1'));
    const second = fakeRequest(fakeSocket('10.0.0.2'));
    expect(await burst(rateLimiter, first, 3)).toEqual([true, true, false]);
    expect(await burst(rateLimiter, second, 3)).toEqual([true, true, false]);
  });

  it('counts two connections from the same address as one client', async () => {
    const rateLimiter = limiter('--rate-limit=2');
    expect(await burst(rateLimiter, fakeRequest(fakeSocket('10.0.0.1')), 2)).toEqual([true, true]);
    expect((await admit(rateLimiter, fakeRequest(fakeSocket('10.0.0.1')))).admitted).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 client', async () => {
    const rateLimiter = limiter('--rate-limit=1');
    expect((await admit(rateLimiter, fakeRequest(fakeSocket('10.0.0.1')))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(fakeSocket('::ffff:10.0.0.1')))).admitted).toBe(false);
  });

  it('shares one limit among all clients in global scope', async () => {
    const rateLimiter = limiter('--rate-limit=2', '--rate-limit-scope=global');
    expect((await admit(rateLimiter, fakeRequest(fakeSocket('10.0.0.1')))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(fakeSocket('10.0.0.2')))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(fakeSocket('10.0.0.3')))).admitted).toBe(false);
  });

  it('keys clients by the right-most X-Forwarded-For entry with --trust-proxy (one hop): the left ones are the client\'s own claim', async () => {
    const rateLimiter = limiter('--rate-limit=1', '--trust-proxy');
    const socket = fakeSocket('10.0.0.1');
    expect((await admit(rateLimiter, fakeRequest(socket, { 'x-forwarded-for': '203.0.113.1, 198.51.100.1' }))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(socket, { 'x-forwarded-for': '203.0.113.2, 198.51.100.2' }))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(socket, { 'x-forwarded-for': '203.0.113.3, 198.51.100.1' }))).admitted).toBe(false);
  });

  it('falls back to the socket address with --trust-proxy when there is no X-Forwarded-For', async () => {
    const rateLimiter = limiter('--rate-limit=1', '--trust-proxy');
    const socket = fakeSocket('10.0.0.1');
    expect((await admit(rateLimiter, fakeRequest(socket))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(socket, { 'x-forwarded-for': '10.0.0.1' }))).admitted).toBe(false);
  });

  it('ignores X-Forwarded-For without --trust-proxy', async () => {
    const rateLimiter = limiter('--rate-limit=1');
    const socket = fakeSocket('10.0.0.1');
    expect((await admit(rateLimiter, fakeRequest(socket, { 'x-forwarded-for': '203.0.113.1' }))).admitted).toBe(true);
    expect((await admit(rateLimiter, fakeRequest(socket, { 'x-forwarded-for': '203.0.113.2' }))).admitted).toBe(false);
  });

  it('admits everything with --rate-limit=0', async () => {
    const rateLimiter = limiter('--rate-limit=0');
    expect(rateLimiter.enabled).toBe(false);
    const results = await burst(rateLimiter, fakeRequest(fakeSocket('10.0.0.1')), 50);
    expect(results.every(Boolean)).toBe(true);
    expect(metrics.rateLimited).toBe(0);
    expect(storage.size).toBe(0);
  });

  it('asks the embedded storage synchronously: no promise per request', () => {
    const rateLimiter = limiter('--rate-limit=1');
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    expect(rateLimiter.admit(req, fakeResponse() as unknown as ServerResponse)).toBeUndefined();
    const refusal = rateLimiter.admit(req, fakeResponse() as unknown as ServerResponse);
    expect(refusal).not.toBeInstanceOf(Promise);
    expect((refusal as HttpException).getStatus()).toBe(429);
  });

  it('awaits any other ThrottlerStorage, answering the same', async () => {
    const config = parseGatewayConfig(['--rate-limit=2'], {});
    // Only the interface's method: what a storage of another package offers.
    const asyncOnly: ThrottlerStorage = { increment: (...args) => storage.increment(...args) };
    const rateLimiter = new RateLimiter(gatewayThrottlerOptions(config), asyncOnly, config, metrics, new ClientAddressResolver(config), new SecurityHeaders(config));
    const req = fakeRequest(fakeSocket('10.0.0.1'));
    const answers = [0, 1, 2].map(() => rateLimiter.admit(req, fakeResponse() as unknown as ServerResponse));
    expect(answers.every((answer) => answer instanceof Promise)).toBe(true);
    const refusals = await Promise.all(answers.map((answer) => Promise.resolve(answer)));
    expect(refusals.map((refusal) => refusal?.getStatus())).toEqual([undefined, undefined, 429]);
  });

  it('is enabled for a positive limit', () => {
    expect(limiter('--rate-limit=1').enabled).toBe(true);
  });
});

describe(gatewayThrottlerOptions.name, () => {
  it('configures one one-second throttler with the rate limit and no block period', () => {
    const config = parseGatewayConfig(['--rate-limit=7'], {});
    expect(gatewayThrottlerOptions(config)).toEqual({
      throttlers: [{ name: 'default', ttl: 1_000, limit: 7, blockDuration: 0 }],
    });
  });
});
