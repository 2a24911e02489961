import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../src/status/status-view.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { startRedis, type TestRedis } from './support/redis.js';

describe('the cluster on one page: /status lists every live instance (--redis-url)', () => {
  let redis: TestRedis;
  let backend: TestBackend;
  let gateways: TestGateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    backend = await startBackend();
    const argv = [backendsFlag(backend), `--redis-url=${redis.url}`, `--redis-prefix=status-${process.pid}:`];
    gateways = await Promise.all([0, 1, 2].map(() => startGateway(argv)));
  });

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await backend?.close();
    await redis?.stop();
  });

  const statusOf = async (gateway: TestGateway) => JSON.parse((await rawRequest(`${gateway.url}/status?format=json`)).body.toString()) as StatusView;

  /** Polls a gateway's /status until `done` holds (at most 5 s). */
  async function statusUntil(gateway: TestGateway, done: (view: StatusView) => boolean): Promise<StatusView> {
    let view = await statusOf(gateway);
    for (let i = 0; i < 50 && !done(view); i++) {
      await sleep(100);
      view = await statusOf(gateway);
    }
    return view;
  }

  it('shows all three instances on any of them, each with its address, version and uptime, this one marked', async () => {
    // An instance's first heartbeat may go out before it listens (no address yet); the next one, a second later, has it.
    const view = await statusUntil(gateways[1], (status) => status.cluster?.instances.filter((instance) => instance.address !== '').length === 3);
    const instances = view.cluster!.instances;
    expect(instances.map((instance) => instance.address).sort()).toEqual(gateways.map((gateway) => gateway.url).sort());
    expect(instances.filter((instance) => instance.self).map((instance) => instance.address)).toEqual([gateways[1].url]);
    expect(view.cluster!.redisUp).toBe(true);
    for (const instance of instances) {
      expect(instance.version).toBe(view.gateway.version);
      expect(instance.startedAt).toBeLessThanOrEqual(Date.parse(view.generatedAt));
      expect(instance.pid).toBe(process.pid);
    }
  });

  it('names each instance by the id its /metrics shows', async () => {
    const view = await statusUntil(gateways[0], (status) => status.cluster?.instances.length === 3);
    const ids = await Promise.all(gateways.map(async (gateway) => (JSON.parse((await rawRequest(`${gateway.url}/metrics?format=json`)).body.toString()) as { instance: { id: string } }).instance.id));
    expect(view.cluster!.instances.map((instance) => instance.id).sort()).toEqual([...ids].sort());
    const prometheus = (await rawRequest(`${gateways[0].url}/metrics?format=prometheus`)).body.toString();
    expect(prometheus).toContain(`gateway_instance_info{instance_id="${ids[0]}"`);
  });

  it('drops an instance that stopped within the heartbeat TTL', async () => {
    const stopped = gateways.pop()!;
    await stopped.close();
    const view = await statusUntil(gateways[0], (status) => status.cluster?.instances.length === 2);
    expect(view.cluster!.instances.map((instance) => instance.address).sort()).toEqual(gateways.map((gateway) => gateway.url).sort());
  });
});
