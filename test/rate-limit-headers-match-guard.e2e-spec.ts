import { Controller, Get, Module, type INestApplication, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

@Controller()
class GuardedController {
  @Get()
  @UseGuards(ThrottlerGuard)
  hello() {
    return 'hello';
  }
}

@Module({
  imports: [ThrottlerModule.forRoot([{ ttl: 1_000, limit: 1 }])],
  controllers: [GuardedController],
})
class GuardedModule {}

/** Names of the rate-limit headers of a response. */
const rateLimitHeaders = (headers: Record<string, string>) =>
  Object.keys(headers).filter((name) => name === 'retry-after' || name.startsWith('x-ratelimit-'));

describe('the gateway’s 429 next to ThrottlerGuard’s', () => {
  let guarded: INestApplication;
  let backend: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    guarded = await NestFactory.create(GuardedModule, { logger: false });
    await guarded.listen(0, '127.0.0.1');
    backend = await startBackend();
    gateway = await startGateway([backendsFlag(backend), '--rate-limit=1']);
  });

  afterAll(async () => {
    await guarded?.close();
    await gateway?.close();
    await backend?.close();
  });

  it('carries every header the guard sends on its 429, with the same Retry-After', async () => {
    await request(guarded.getHttpServer()).get('/').expect(200);
    const fromGuard = await request(guarded.getHttpServer()).get('/').expect(429);
    await request(gateway.url).get('/').expect(200);
    const fromGateway = await request(gateway.url).get('/').expect(429);

    const guardHeaders = rateLimitHeaders(fromGuard.headers);
    expect(guardHeaders).toContain('retry-after');
    expect(rateLimitHeaders(fromGateway.headers)).toEqual(expect.arrayContaining(guardHeaders));
    expect(fromGateway.headers['retry-after']).toBe(fromGuard.headers['retry-after']);
    expect(fromGateway.body.statusCode).toBe(fromGuard.body.statusCode);
  });
});
