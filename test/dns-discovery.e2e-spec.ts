import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { type Certificates, makeCertificates } from './support/certificates.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';
import { type StubDnsServer, startStubDnsServer } from './support/stub-dns-server.js';

/** A backend on one loopback address: answers its address, `/slow` after 1.5 s. */
interface AddressBackend {
  readonly address: string;
  hits: number;
  close(): Promise<void>;
}

async function backendOn(address: string, port: number): Promise<AddressBackend & { port: number }> {
  const backend = { address, hits: 0 };
  const server = http.createServer((req, res) => {
    backend.hits++;
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(address);
    if (req.url === '/slow') setTimeout(answer, 1_500);
    else answer();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, address, resolve));
  return Object.assign(backend, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => server.closeAllConnections()),
  });
}

/** Asks through the gateway until `done` holds for an answer, or `limitMs` passes; returns how long it took. */
async function until(gateway: TestGateway, done: (body: string) => boolean, limitMs = 3_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    const response = await rawRequest(`${gateway.url}/`);
    if (response.status === 200 && done(response.body.toString())) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`not within ${limitMs} ms`);
}

async function backendUrls(gateway: TestGateway): Promise<string[]> {
  const response = await rawRequest(`${gateway.url}/metrics`, { headers: { accept: 'application/json' } });
  return (JSON.parse(response.body.toString()) as { backends: { url: string; service: string }[] }).backends.map(({ url, service }) => `${service} ${url}`);
}

describe('DNS service discovery (resolve: true)', () => {
  let dns: StubDnsServer;
  let first: AddressBackend & { port: number };
  let second: AddressBackend;
  let gateway: TestGateway;
  let dir: string;

  beforeAll(async () => {
    dns = await startStubDnsServer();
    dns.set('app.test', ['127.0.0.1']);
    first = await backendOn('127.0.0.1', 0);
    // The same port on another loopback address: the name's second address.
    second = await backendOn('127.0.0.2', first.port);
    dir = mkdtempSync(join(tmpdir(), 'gateway-dns-'));
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, toYaml({ services: { app: { backends: [`http://app.test:${first.port}`], resolve: true, dnsRefresh: '200ms' } }, routes: [{ service: 'app' }] }));
    gateway = await startGateway([`--config=${config}`, `--dns-resolver=${dns.address}:${dns.port}`, '--rate-limit=0']);
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([first?.close(), second?.close(), dns?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends to the address the name resolves to, a backend of its service under that address', async () => {
    await until(gateway, (body) => body === '127.0.0.1');
    await expect(backendUrls(gateway)).resolves.toEqual([`app http://127.0.0.1:${first.port}`]);
  });

  it('adds an address that appears, and drains one that disappears: its request in flight finishes, no new one reaches it', async () => {
    dns.set('app.test', ['127.0.0.1', '127.0.0.2']);
    const joinedMs = await until(gateway, (body) => body === '127.0.0.2');
    expect(joinedMs).toBeLessThan(1_000);
    // Round robin over both now: a slow request lands on the first address (at most two tries).
    let slow: Promise<string> | undefined;
    for (let i = 0; i < 2 && slow === undefined; i++) {
      const hits = first.hits;
      const pending = rawRequest(`${gateway.url}/slow`).then((response) => `${response.status} ${response.body.toString()}`);
      await sleep(100);
      if (first.hits > hits) slow = pending;
      else await pending;
    }
    expect(slow).toBeDefined();
    dns.set('app.test', ['127.0.0.2']);
    await sleep(600);
    const hitsAfter = first.hits;
    const bodies = await Promise.all(Array.from({ length: 10 }, () => rawRequest(`${gateway.url}/`).then((response) => response.body.toString())));
    expect(bodies).toEqual(Array(10).fill('127.0.0.2'));
    expect(first.hits).toBe(hitsAfter);
    await expect(slow).resolves.toBe('200 127.0.0.1');
    await sleep(300);
    await expect(backendUrls(gateway)).resolves.toEqual([`app http://127.0.0.2:${first.port}`]);
  });

  it('keeps the last good addresses when the name stops resolving', async () => {
    dns.delete('app.test');
    await sleep(600);
    const answers = await Promise.all(Array.from({ length: 5 }, () => rawRequest(`${gateway.url}/`).then((response) => `${response.status} ${response.body.toString()}`)));
    expect(answers).toEqual(Array(5).fill('200 127.0.0.2'));
  });
});

describe('DNS service discovery of an https:// backend', () => {
  let dns: StubDnsServer;
  let certificates: Certificates;
  let server: https.Server;
  let servernames: (string | false | null)[];
  let gateway: TestGateway;
  let dir: string;

  beforeAll(async () => {
    dns = await startStubDnsServer();
    dns.set('secure.test', ['127.0.0.1']);
    certificates = makeCertificates();
    const ca = certificates.ca('discovery-ca');
    // Valid for the name only: an address in its place would fail the check.
    const issued = ca.server('secure', ['secure.test']);
    servernames = [];
    server = https.createServer({ cert: issued.cert, key: issued.key }, (req, res) => {
      servernames.push((req.socket as TLSSocket).servername);
      res.end('secure');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    dir = mkdtempSync(join(tmpdir(), 'gateway-dns-tls-'));
    const config = join(dir, 'gateway.yaml');
    const healthCheck = { interval: '100ms', fall: 1 };
    writeFileSync(config, toYaml({ services: { secure: { backends: [`https://secure.test:${port}`], resolve: true, healthCheck } }, routes: [{ service: 'secure' }] }));
    gateway = await startGateway([`--config=${config}`, `--dns-resolver=${dns.address}:${dns.port}`, `--upstream-ca=${ca.certPath}`, '--rate-limit=0']);
  });

  afterAll(async () => {
    await gateway?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await dns?.close();
    certificates?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects to the address and names the host for SNI and the certificate check, in requests and health checks', async () => {
    await until(gateway, (body) => body === 'secure');
    const { port } = server.address() as AddressInfo;
    await expect(backendUrls(gateway)).resolves.toEqual([`secure https://127.0.0.1:${port}`]);
    // A few check rounds: one failed check would take it out (fall: 1).
    await sleep(500);
    const metrics = await rawRequest(`${gateway.url}/metrics`, { headers: { accept: 'application/json' } });
    expect((JSON.parse(metrics.body.toString()) as { backends: { health: string }[] }).backends.map(({ health }) => health)).toEqual(['healthy']);
    expect(new Set(servernames)).toEqual(new Set(['secure.test']));
  });
});
