import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { resolveConfigDocument } from '../config/config-file.js';
import { parseGatewayConfig } from '../config/parse-gateway-config.js';
import { failAttempts } from '../../test/support/breaker.js';
import { BackendDiscovery } from './discovery/backend-discovery.js';
import { UpstreamPool } from './upstream-pool.js';

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';

describe(UpstreamPool.name, () => {
  const config = parseGatewayConfig(['--shutdown-timeout=0s'], {});
  const pools: UpstreamPool[] = [];

  /** The version a file with these services would give (every route to the first service). */
  function version(services: Record<string, Record<string, unknown>>) {
    return resolveConfigDocument({ services, routes: [{ service: Object.keys(services)[0] }] }, config);
  }

  function poolWith(services: Record<string, Record<string, unknown>>): UpstreamPool {
    const pool = new UpstreamPool(config, new CircuitBreakerService(config), version(services), new BackendDiscovery(config));
    pools.push(pool);
    return pool;
  }

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    for (const pool of pools.splice(0)) pool.onModuleDestroy();
    vi.useRealTimers();
  });

  it('keeps a backend that stays, with its breaker as it is, when another setting of its service changes', async () => {
    const pool = poolWith({ users: { backends: [A, B] } });
    const a = pool.upstream(A)!;
    await failAttempts(a.breaker, 5);
    pool.apply(version({ users: { backends: [A], retries: 0, writeTimeout: '1s' } }));
    expect(pool.upstream(A)).toBe(a);
    expect(a.breaker.state).toBe('open');
    expect(pool.service('users')!.upstreams).toEqual([a]);
    expect(pool.service('users')!.settings.retries).toBe(0);
  });

  it('builds a backend anew, with a fresh breaker that has the new threshold, when its breaker settings change', async () => {
    const pool = poolWith({ users: { backends: [A] } });
    const before = pool.upstream(A)!;
    pool.apply(version({ users: { backends: [A], breaker: { failures: 1 } } }));
    const after = pool.upstream(A)!;
    expect(after).not.toBe(before);
    expect(before.retired).toBe(true);
    await failAttempts(after.breaker, 1);
    expect(after.breaker.state).toBe('open');
  });

  it('takes a drained backend out of rotation and keeps it configured; active puts the same one back', () => {
    const pool = poolWith({ users: { backends: [A, B] } });
    const a = pool.upstream(A)!;
    pool.apply(version({ users: { backends: [{ url: A, drained: true }, B] } }));
    expect(pool.service('users')!.upstreams.map(({ url }) => url)).toEqual([B]);
    expect(pool.upstream(A)).toBe(a);
    pool.apply(version({ users: { backends: [A, B] } }));
    expect(pool.service('users')!.upstreams).toContain(a);
  });

  it('empties a removed service, so a request matched to it just before finds no backend rather than a closed one', () => {
    const pool = poolWith({ users: { backends: [A] }, orders: { backends: [B] } });
    const orders = pool.service('orders')!;
    pool.apply(version({ users: { backends: [A] } }));
    expect(pool.service('orders')).toBeUndefined();
    expect(orders.upstreams).toEqual([]);
  });

  it('moves a backend to another service without building it anew', () => {
    const pool = poolWith({ users: { backends: [A, B] }, orders: { backends: ['http://127.0.0.1:8083'] } });
    const b = pool.upstream(B)!;
    pool.apply(version({ users: { backends: [A] }, orders: { backends: [B] } }));
    expect(pool.upstream(B)).toBe(b);
    expect(b.service).toBe('orders');
    expect(pool.service('orders')!.upstreams).toEqual([b]);
  });
});
