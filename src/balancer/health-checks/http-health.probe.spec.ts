import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Upstream } from '../upstream.js';
import { UpstreamBreaker } from '../../breaker/upstream-breaker.js';
import { parseGatewayConfig } from '../../config/parse-gateway-config.js';
import { HttpHealthProbe } from './http-health.probe.js';

/** A backend on 127.0.0.1 that records the paths it is asked for and answers with `handler`. */
interface PathRecordingBackend {
  readonly url: string;
  readonly paths: string[];
  close(): Promise<void>;
}

async function startBackend(handler: http.RequestListener): Promise<PathRecordingBackend> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answering(status: number): http.RequestListener {
  return (_req, res) => res.writeHead(status).end('checked');
}

/** Accepts the request and never answers. */
const silent: http.RequestListener = () => undefined;

async function closedPortUrl(): Promise<string> {
  const backend = await startBackend(silent);
  await backend.close();
  return backend.url;
}

describe(HttpHealthProbe.name, () => {
  const toClose: { close(): unknown }[] = [];

  /** The probe, each check made with the path and timeout these flags give. */
  function probeWith(flags: string[]): Pick<HttpHealthProbe, 'onModuleDestroy'> & { check(upstream: Upstream, signal: AbortSignal): Promise<boolean> } {
    const config = parseGatewayConfig(flags, {});
    const probe = new HttpHealthProbe(config);
    toClose.push({ close: () => probe.onModuleDestroy() });
    const settings = { path: config.healthCheckPath, timeoutMs: config.healthCheckTimeoutMs };
    return { check: (upstream, signal) => probe.check(upstream, settings, signal), onModuleDestroy: () => probe.onModuleDestroy() };
  }

  function upstreamAt(url: string): Upstream {
    const upstream = new Upstream(url, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    toClose.push(upstream);
    return upstream;
  }

  async function backend(handler: http.RequestListener): Promise<PathRecordingBackend> {
    const started = await startBackend(handler);
    toClose.push(started);
    return started;
  }

  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(toClose.splice(0).map((item) => item.close()));
  });

  it("makes no HTTP request in the caller's thread (node:http's client there deoptimized the server's code)", async () => {
    const request = vi.spyOn(http, 'request');
    const { url } = await backend(answering(200));
    await expect(probeWith([]).check(upstreamAt(url), new AbortController().signal)).resolves.toBe(true);
    expect(request).not.toHaveBeenCalled();
  });

  it('checks again after the thread that ran its checks has gone', async () => {
    const { url } = await backend(answering(200));
    const probe = probeWith([]);
    await expect(probe.check(upstreamAt(url), new AbortController().signal)).resolves.toBe(true);
    await probe.onModuleDestroy();
    await expect(probe.check(upstreamAt(url), new AbortController().signal)).resolves.toBe(true);
  });

  it.each([200, 204, 301, 304, 399])('passes a backend that answers %i', async (status) => {
    const { url } = await backend(answering(status));
    await expect(probeWith([]).check(upstreamAt(url), new AbortController().signal)).resolves.toBe(true);
  });

  it.each([400, 404, 500, 503])('fails a backend that answers %i', async (status) => {
    const { url } = await backend(answering(status));
    await expect(probeWith([]).check(upstreamAt(url), new AbortController().signal)).resolves.toBe(false);
  });

  it('fails a backend that refuses the connection', async () => {
    const url = await closedPortUrl();
    await expect(probeWith([]).check(upstreamAt(url), new AbortController().signal)).resolves.toBe(false);
  });

  it('fails a backend that does not answer within --health-check-timeout', async () => {
    const { url } = await backend(silent);
    const started = performance.now();
    await expect(probeWith(['--health-check-timeout=100ms']).check(upstreamAt(url), new AbortController().signal)).resolves.toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('ends a check in flight, failed, when its signal aborts', async () => {
    const { url } = await backend(silent);
    const stopping = new AbortController();
    const check = probeWith(['--health-check-timeout=1m']).check(upstreamAt(url), stopping.signal);
    setTimeout(() => stopping.abort(), 20);
    await expect(check).resolves.toBe(false);
  });

  it('starts no check once its signal has aborted', async () => {
    const started = await backend(answering(200));
    await expect(probeWith([]).check(upstreamAt(started.url), AbortSignal.abort())).resolves.toBe(false);
    expect(started.paths).toEqual([]);
  });

  it('GETs --health-check-path on a backend without a path prefix', async () => {
    const started = await backend(answering(200));
    await probeWith(['--health-check-path=/healthz']).check(upstreamAt(started.url), new AbortController().signal);
    expect(started.paths).toEqual(['/healthz']);
  });

  it("GETs --health-check-path under the backend's path prefix", async () => {
    const started = await backend(answering(200));
    await probeWith(['--health-check-path=/healthz']).check(upstreamAt(`${started.url}/api`), new AbortController().signal);
    expect(started.paths).toEqual(['/api/healthz']);
  });

  it('GETs / by default', async () => {
    const started = await backend(answering(200));
    await probeWith([]).check(upstreamAt(started.url), new AbortController().signal);
    expect(started.paths).toEqual(['/']);
  });
});

