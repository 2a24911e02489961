import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { ENGINES } from './support/engines.js';

describe.each(ENGINES)('a backend that stops between requests (%s)', (engine) => {
  let one: TestBackend | undefined;
  let two: TestBackend | undefined;
  let gateway: TestGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await one?.close();
    await two?.close();
  });

  it('costs GET clients no error, opens its breaker, and gets traffic again after the cool-down once it is back', async () => {
    one = await startBackend({ name: 'one' });
    two = await startBackend({ name: 'two' });
    gateway = await startGateway([`--proxy-engine=${engine}`, backendsFlag(one, two), '--breaker-failures=3', '--breaker-cooldown=500ms', '--rate-limit=0']);
    const backendState = () => gateway!.metrics.snapshot().backends[1].state;

    for (let i = 0; i < 4; i++) await request(gateway.url).get('/warm-up').expect(200);
    const port = two.port;
    await two.close();

    // Every request is answered by the live backend, including those first sent to the dead one.
    const bodies: string[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await request(gateway.url).get(`/while-down/${i}`);
      expect(response.status).toBe(200);
      bodies.push(response.text);
    }
    expect(new Set(bodies)).toEqual(new Set(['one']));
    expect(backendState()).toBe('open');
    const { backends } = gateway.metrics.snapshot();
    expect(backends[1].errors).toBe(3); // tried until its breaker opened, then skipped
    expect((await request(gateway.url).get('/health/ready').expect(200)).body.details[`http://127.0.0.1:${port}`]).toEqual({
      status: 'degraded',
      available: false,
      breaker: 'open',
      breakerOrigin: 'local',
      health: 'healthy',
      healthOrigin: 'local',
    });

    two = await startBackend({ name: 'two', port });
    await sleep(600); // past the cool-down: the next request that picks it is the probe
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push((await request(gateway.url).get(`/back/${i}`).expect(200)).text);
    expect(after.filter((body) => body === 'two').length).toBeGreaterThanOrEqual(2);
    expect(backendState()).toBe('closed');
  });
});
