import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startBackend, type TestBackend } from './support/backend.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { type LoadResult, runLoad, tally } from './support/load.js';
import { parseExposition, sampleValue } from './support/prometheus-text.js';

/** A config file's services (name → backend URLs) and routes (path prefix → service), as YAML. */
function configText(services: Record<string, readonly string[]>, routes: readonly { prefix?: string; service: string }[]): string {
  return toYaml({
    services: Object.fromEntries(Object.entries(services).map(([name, backends]) => [name, { backends: [...backends] }])),
    routes: routes.map(({ prefix, service }) => (prefix === undefined ? { service } : { match: { pathPrefix: prefix }, service })),
  });
}

/** What JSON /metrics says about the config and the backends. */
interface MetricsSnapshot {
  readonly config: { readonly hash: string; readonly reloads: { readonly success: number; readonly failure: number } };
  readonly backends: readonly { readonly url: string; readonly service: string; readonly requests: number; readonly inFlight: number }[];
}

async function metricsJson(gateway: TestGateway): Promise<MetricsSnapshot> {
  const response = await rawRequest(`${gateway.url}/metrics`, { headers: { accept: 'application/json' } });
  expect(response.status).toBe(200);
  return JSON.parse(response.body.toString()) as MetricsSnapshot;
}

/** gateway_config_reloads_total by result, and the hash label of gateway_config_info, from the Prometheus text. */
async function configMetrics(gateway: TestGateway): Promise<{ success: number; failure: number; hashes: string[] }> {
  const response = await rawRequest(`${gateway.url}/metrics?format=prometheus`);
  expect(response.status).toBe(200);
  const exposition = parseExposition(response.body.toString());
  return {
    success: sampleValue(exposition, 'gateway_config_reloads_total', { result: 'success' }) ?? 0,
    failure: sampleValue(exposition, 'gateway_config_reloads_total', { result: 'failure' }) ?? 0,
    hashes: exposition.samples.filter((sample) => sample.name === 'gateway_config_info' && sample.value === 1).map((sample) => sample.labels.hash),
  };
}

/** Status and body of one GET through the gateway, on a fresh connection. */
async function get(gateway: TestGateway, path: string): Promise<string> {
  const response = await rawRequest(`${gateway.url}${path}`);
  return `${response.status} ${response.body.toString()}`;
}

describe('config file reload (--config)', () => {
  let dir: string;
  let blue: TestBackend;
  let green: TestBackend;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-config-reload-'));
    blue = await startBackend({ name: 'blue' });
    green = await startBackend({ name: 'green' });
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  afterAll(async () => {
    await blue?.close();
    await green?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `/api` to blue, or to green. */
  const blueApi = () => configText({ blue: [blue.url], green: [green.url] }, [{ prefix: '/api', service: 'blue' }]);
  const greenApi = () => configText({ blue: [blue.url], green: [green.url] }, [{ prefix: '/api', service: 'green' }]);

  async function gatewayOn(path: string, ...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway([`--config=${path}`, '--proxy-engine=undici', ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  it('moves a route from blue to green under a steady stream: none failed, green within 1 s, and no blue after the first green', async () => {
    const path = join(dir, 'moved.yaml');
    writeFileSync(path, blueApi());
    // No rate limit: the stream is far above the default 100 a second of one client.
    const gateway = await gatewayOn(path, '--rate-limit=0');
    expect(await get(gateway, '/api/ping')).toBe('200 blue');

    const answeredAt = new Map<number, number>();
    const started = performance.now();
    const load = runLoad({
      url: `${gateway.url}/api/ping`,
      total: 50_000,
      concurrency: 4,
      requestTimeoutMs: 5_000,
      until: () => performance.now() - started > 3_000,
      onAnswer: (result) => answeredAt.set(result.index, performance.now()),
    });
    await sleep(1_000);
    writeFileSync(path, greenApi());
    const writtenAt = performance.now();
    const results = await load;

    const answers = results.map((result: LoadResult) => ({ body: result.body, at: answeredAt.get(result.index) ?? Number.NaN }));
    const greens = answers.filter((answer) => answer.body === 'green');
    const firstGreenAt = Math.min(...greens.map((answer) => answer.at));
    const switchMs = firstGreenAt - writtenAt;
    const lateBlues = answers.filter((answer) => answer.body === 'blue' && answer.at > firstGreenAt + 50);
    console.log(`route move under load: ${results.length} requests, outcomes ${JSON.stringify(tally(results))}, write → first green ${switchMs.toFixed(0)} ms, blues after it ${answers.filter((a) => a.body === 'blue' && a.at > firstGreenAt).length}`);

    expect(results.length).toBeGreaterThan(100);
    expect(tally(results)).toEqual({ 200: results.length });
    expect(answers.filter((answer) => answer.body !== 'blue' && answer.body !== 'green')).toEqual([]);
    expect(greens.length).toBeGreaterThan(0);
    expect(switchMs).toBeGreaterThan(0);
    expect(switchMs).toBeLessThan(1_000);
    // The switch is atomic per request: once green has answered, blue only finishes what it had.
    expect(lateBlues).toEqual([]);
    expect(answers.filter((answer) => answer.at < writtenAt && answer.body === 'green')).toEqual([]);
  });

  it('picks up a new version written to a temporary file and renamed over the config file', async () => {
    const path = join(dir, 'renamed.yaml');
    writeFileSync(path, blueApi());
    const gateway = await gatewayOn(path);
    expect(await get(gateway, '/api/x')).toBe('200 blue');
    const before = (await metricsJson(gateway)).config.hash;

    writeFileSync(`${path}.tmp`, greenApi());
    renameSync(`${path}.tmp`, path);
    await expect.poll(() => get(gateway, '/api/x'), { timeout: 3_000, interval: 50 }).toBe('200 green');
    expect((await metricsJson(gateway)).config.hash).not.toBe(before);
  });

  it('follows a Kubernetes-style ConfigMap symlink swap (..data renamed over)', async () => {
    // A ConfigMap volume: gateway.yaml → ..data/gateway.yaml, ..data → a timestamped directory.
    const mount = join(dir, 'configmap');
    mkdirSync(join(mount, '..2026_01_01_00_00_00.000000001'), { recursive: true });
    writeFileSync(join(mount, '..2026_01_01_00_00_00.000000001', 'gateway.yaml'), blueApi());
    symlinkSync('..2026_01_01_00_00_00.000000001', join(mount, '..data'));
    symlinkSync(join('..data', 'gateway.yaml'), join(mount, 'gateway.yaml'));
    const gateway = await gatewayOn(join(mount, 'gateway.yaml'));
    expect(await get(gateway, '/api/x')).toBe('200 blue');
    const before = (await metricsJson(gateway)).config.hash;

    // The kubelet's update: a new timestamped directory, a new symlink to it, renamed over ..data, the old directory removed.
    mkdirSync(join(mount, '..2026_01_01_00_01_00.000000002'));
    writeFileSync(join(mount, '..2026_01_01_00_01_00.000000002', 'gateway.yaml'), greenApi());
    symlinkSync('..2026_01_01_00_01_00.000000002', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    rmSync(join(mount, '..2026_01_01_00_00_00.000000001'), { recursive: true });
    await expect.poll(() => get(gateway, '/api/x'), { timeout: 3_000, interval: 50 }).toBe('200 green');
    expect((await metricsJson(gateway)).config.hash).not.toBe(before);
  });

  it('refuses an invalid version and an empty file, keeping the running one, then applies a valid one', async () => {
    const path = join(dir, 'invalid.yaml');
    writeFileSync(path, blueApi());
    const gateway = await gatewayOn(path);
    expect(await get(gateway, '/api/x')).toBe('200 blue');
    const start = await configMetrics(gateway);
    const hash = (await metricsJson(gateway)).config.hash;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(start.hashes).toEqual([hash]);

    // A schema problem: the route names a service that is not there.
    writeFileSync(path, configText({ blue: [blue.url], green: [green.url] }, [{ prefix: '/api', service: 'purple' }]));
    await expect.poll(async () => (await configMetrics(gateway)).failure, { timeout: 3_000, interval: 50 }).toBe(start.failure + 1);
    expect(await get(gateway, '/api/x')).toBe('200 blue');
    expect(await configMetrics(gateway)).toEqual({ success: start.success, failure: start.failure + 1, hashes: [hash] });
    expect((await metricsJson(gateway)).config).toEqual({ hash, reloads: { success: start.success, failure: start.failure + 1 } });

    // An empty file (as a truncating write leaves it for a moment).
    writeFileSync(path, '');
    await expect.poll(async () => (await configMetrics(gateway)).failure, { timeout: 3_000, interval: 50 }).toBe(start.failure + 2);
    expect(await get(gateway, '/api/x')).toBe('200 blue');
    expect(await configMetrics(gateway)).toEqual({ success: start.success, failure: start.failure + 2, hashes: [hash] });

    // A valid version again: applied.
    writeFileSync(path, greenApi());
    await expect.poll(async () => (await configMetrics(gateway)).success, { timeout: 3_000, interval: 50 }).toBe(start.success + 1);
    expect(await get(gateway, '/api/x')).toBe('200 green');
    const after = await configMetrics(gateway);
    expect(after.failure).toBe(start.failure + 2);
    expect(after.hashes).toHaveLength(1);
    expect(after.hashes[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(after.hashes[0]).not.toBe(hash);
    expect((await metricsJson(gateway)).config.hash).toBe(after.hashes[0]);
  });

  it('keeps the counters of a backend that stays, and drains a removed one: its slow request completes, new ones go elsewhere', async () => {
    const stay = await startBackend({ name: 'stay' });
    // Answers /slow after 1.5 s: still in flight when the version that removes it is applied.
    const leaving = await startBackend({
      handler: (req, res) => {
        if (req.url === '/slow') setTimeout(() => res.end('leaving'), 1_500);
        else res.end('leaving');
      },
    });
    try {
      const path = join(dir, 'drain.yaml');
      writeFileSync(path, configText({ main: [stay.url, leaving.url] }, [{ service: 'main' }]));
      const gateway = await gatewayOn(path);
      for (let i = 0; i < 6; i++) expect(await get(gateway, '/warm')).toMatch(/^200 (stay|leaving)$/);
      const warm = await metricsJson(gateway);
      expect(warm.backends.map(({ url, requests }) => [url, requests])).toEqual([
        [stay.url, 3],
        [leaving.url, 3],
      ]);

      // Two at once: round robin sends one to each backend.
      let slowDoneAt: number | undefined;
      const slow = Promise.all([get(gateway, '/slow'), get(gateway, '/slow')]).then((answers) => {
        slowDoneAt = performance.now();
        return answers;
      });
      await expect.poll(() => leaving.arrivals.filter((url) => url === '/slow').length, { timeout: 2_000, interval: 10 }).toBe(1);
      await expect.poll(() => stay.requests.filter((request) => request.url === '/slow').length, { timeout: 2_000, interval: 10 }).toBe(1);
      const leavingArrivals = leaving.arrivals.length;
      const stayBefore = (await metricsJson(gateway)).backends.find((backend) => backend.url === stay.url)?.requests;
      expect(stayBefore).toBe(4);

      writeFileSync(path, configText({ main: [stay.url] }, [{ service: 'main' }]));
      await expect.poll(async () => (await metricsJson(gateway)).config.hash, { timeout: 3_000, interval: 20 }).not.toBe(warm.config.hash);
      const appliedAt = performance.now();
      // The slow request to the removed backend is still in flight.
      expect(slowDoneAt).toBeUndefined();

      // New requests no longer reach it.
      for (let i = 0; i < 10; i++) expect(await get(gateway, '/after')).toBe('200 stay');
      expect(leaving.arrivals).toHaveLength(leavingArrivals);

      // The one in flight completes where it was sent.
      expect((await slow).sort()).toEqual(['200 leaving', '200 stay']);
      expect(slowDoneAt).toBeGreaterThan(appliedAt);

      // The backend that stayed kept its counters; the removed one is gone once drained.
      await expect.poll(async () => (await metricsJson(gateway)).backends.map((backend) => backend.url), { timeout: 3_000, interval: 50 }).toEqual([stay.url]);
      const after = (await metricsJson(gateway)).backends[0];
      expect(after.requests).toBe(stayBefore! + 10);
      expect(after.service).toBe('main');
    } finally {
      await stay.close();
      await leaving.close();
    }
  });
});
