import { copyFileSync, mkdirSync, renameSync, symlinkSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config.error.js';
import { startBackend, type TestBackend } from './support/backend.js';
import { type CertificateAuthority, type Certificates, type Issued, makeCertificates } from './support/certificates.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

/** What an HTTPS client saw: status, headers, the certificate served and the protocol ALPN chose. */
interface TlsResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly fingerprint256: string;
  readonly alpn: string | false | null;
}

/** One HTTPS request on a fresh connection, trusting only `ca`. */
function httpsGet(port: number, ca: Buffer, path = '/'): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const tlsOptions: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, path, ca, agent: false, ALPNProtocols: ['http/1.1'], timeout: 5_000 };
    const req = https.request(tlsOptions, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const fingerprint256 = socket.getPeerCertificate().fingerprint256;
      const alpn = socket.alpnProtocol;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), fingerprint256, alpn }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Whether a TLS handshake with at most `maxVersion` succeeds. */
function handshakes(port: number, ca: Buffer, maxVersion: tls.SecureVersion): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, maxVersion, minVersion: 'TLSv1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('TLS termination (--tls-cert, --tls-key)', () => {
  let certificates: Certificates;
  let ca: CertificateAuthority;
  let first: Issued;
  let second: Issued;
  let third: Issued;
  let backend: TestBackend;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    certificates = makeCertificates();
    ca = certificates.ca('test-ca');
    first = ca.server('first');
    second = ca.server('second');
    third = ca.server('third');
    backend = await startBackend({
      handler: (req, res) => {
        // A backend that sets its own HSTS keeps it.
        if (req.url === '/own-hsts') res.setHeader('strict-transport-security', 'max-age=60');
        res.end(String(req.headers['x-forwarded-proto']));
      },
    });
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  afterAll(async () => {
    await backend?.close();
    certificates?.remove();
  });

  async function gatewayWith(...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway([`--backends=${backend.url}`, ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  /** Copies a pair to where the gateway reads it, each file replaced by an atomic rename (as most tools write them). */
  function install(pair: Issued, certPath: string, keyPath: string, only?: 'cert'): void {
    copyFileSync(pair.certPath, `${certPath}.new`);
    renameSync(`${certPath}.new`, certPath);
    if (only) return;
    copyFileSync(pair.keyPath, `${keyPath}.new`);
    renameSync(`${keyPath}.new`, keyPath);
  }

  describe.each(ENGINES)('serving HTTPS (%s)', (engine) => {
    it('answers over TLS with its certificate, HTTP/1.1 by ALPN, X-Forwarded-Proto https to the backend, HSTS and nosniff', async () => {
      const gateway = await gatewayWith(`--tls-cert=${first.certPath}`, `--tls-key=${first.keyPath}`, `--proxy-engine=${engine}`);
      const response = await httpsGet(gateway.port, ca.cert, '/orders');
      expect(response.status).toBe(200);
      expect(response.fingerprint256).toBe(first.fingerprint256);
      expect(response.alpn).toBe('http/1.1');
      expect(response.body).toBe('https');
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      // The gateway's own answers carry them too.
      const health = await httpsGet(gateway.port, ca.cert, '/health');
      expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    });

    it("keeps a backend's own Strict-Transport-Security", async () => {
      const gateway = await gatewayWith(`--tls-cert=${first.certPath}`, `--tls-key=${first.keyPath}`, `--proxy-engine=${engine}`);
      const response = await httpsGet(gateway.port, ca.cert, '/own-hsts');
      expect(response.headers['strict-transport-security']).toBe('max-age=60');
    });
  });

  it('refuses TLS older than 1.2 by default, and 1.2 with --tls-min-version=TLSv1.3', async () => {
    const gateway = await gatewayWith(`--tls-cert=${first.certPath}`, `--tls-key=${first.keyPath}`);
    expect(await handshakes(gateway.port, ca.cert, 'TLSv1.1')).toBe(false);
    expect(await handshakes(gateway.port, ca.cert, 'TLSv1.2')).toBe(true);
    const strict = await gatewayWith(`--tls-cert=${first.certPath}`, `--tls-key=${first.keyPath}`, '--tls-min-version=TLSv1.3');
    expect(await handshakes(strict.port, ca.cert, 'TLSv1.2')).toBe(false);
    expect(await handshakes(strict.port, ca.cert, 'TLSv1.3')).toBe(true);
  });

  it('sends the --hsts value given, and none with --hsts=off', async () => {
    const custom = await gatewayWith(`--tls-cert=${first.certPath}`, `--tls-key=${first.keyPath}`, '--hsts=max-age=600; includeSubDomains');
    expect((await httpsGet(custom.port, ca.cert)).headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
    const off = await gatewayWith(`--tls-cert=${first.certPath}`, `--tls-key=${first.keyPath}`, '--hsts=off');
    const response = await httpsGet(off.port, ca.cert);
    expect(response.headers['strict-transport-security']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends no HSTS over plain HTTP, nosniff everywhere, and neither with --security-headers=off; never Server or X-Powered-By', async () => {
    const plain = await gatewayWith();
    for (const path of ['/', '/health', '/metrics']) {
      const response = await rawRequest(`${plain.url}${path}`);
      expect(response.headers['strict-transport-security']).toBeUndefined();
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers.server).toBeUndefined();
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
    expect((await rawRequest(`${plain.url}/`, { method: 'TRACE' })).headers['x-content-type-options']).toBe('nosniff');
    const off = await gatewayWith('--security-headers=off');
    expect((await rawRequest(`${off.url}/`)).headers['x-content-type-options']).toBeUndefined();
  });

  it('serves a renewed certificate to new connections within 2 s, under a steady stream of requests, with none failed', async () => {
    const dir = join(certificates.dir, 'renewal');
    mkdirSync(dir);
    const certPath = join(dir, 'tls.crt');
    const keyPath = join(dir, 'tls.key');
    install(first, certPath, keyPath);
    const gateway = await gatewayWith(`--tls-cert=${certPath}`, `--tls-key=${keyPath}`);
    let failed = 0;
    let sent = 0;
    let stop = false;
    const seen: { at: number; fingerprint: string }[] = [];
    const stream = (async () => {
      while (!stop) {
        sent++;
        await httpsGet(gateway.port, ca.cert).then(
          (response) => seen.push({ at: Date.now(), fingerprint: response.fingerprint256 }),
          () => failed++,
        );
        await sleep(10);
      }
    })();
    await sleep(300);
    const renewedAt = Date.now();
    install(second, certPath, keyPath);
    const deadline = renewedAt + 5_000;
    while (Date.now() < deadline && seen.at(-1)?.fingerprint !== second.fingerprint256) await sleep(50);
    await sleep(200);
    stop = true;
    await stream;
    const firstSecond = seen.find((entry) => entry.fingerprint === second.fingerprint256);
    expect(firstSecond).toBeDefined();
    expect(firstSecond!.at - renewedAt).toBeLessThan(2_500);
    // Once renewed, every new connection gets the new certificate.
    expect(seen.filter((entry) => entry.at > firstSecond!.at && entry.fingerprint !== second.fingerprint256)).toEqual([]);
    expect(sent).toBeGreaterThan(20);
    expect(failed).toBe(0);
  });

  it('follows a Kubernetes-style symlink swap, and ignores a certificate whose key has not come yet', async () => {
    // Kubernetes mounts a Secret as files that are symlinks through `..data`, itself a symlink swapped in one rename.
    const dir = join(certificates.dir, 'secret');
    mkdirSync(join(dir, 'v1'), { recursive: true });
    mkdirSync(join(dir, 'v2'));
    copyFileSync(first.certPath, join(dir, 'v1', 'tls.crt'));
    copyFileSync(first.keyPath, join(dir, 'v1', 'tls.key'));
    copyFileSync(second.certPath, join(dir, 'v2', 'tls.crt'));
    copyFileSync(second.keyPath, join(dir, 'v2', 'tls.key'));
    symlinkSync('v1', join(dir, '..data'));
    symlinkSync(join('..data', 'tls.crt'), join(dir, 'tls.crt'));
    symlinkSync(join('..data', 'tls.key'), join(dir, 'tls.key'));
    const certPath = join(dir, 'tls.crt');
    const keyPath = join(dir, 'tls.key');
    const gateway = await gatewayWith(`--tls-cert=${certPath}`, `--tls-key=${keyPath}`);
    expect((await httpsGet(gateway.port, ca.cert)).fingerprint256).toBe(first.fingerprint256);

    symlinkSync('v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await expect.poll(async () => (await httpsGet(gateway.port, ca.cert)).fingerprint256, { timeout: 5_000, interval: 100 }).toBe(second.fingerprint256);

    // Half a renewal: the certificate written, its key not yet. The pair in service stays.
    copyFileSync(third.certPath, join(dir, 'v2', 'tls.crt.new'));
    renameSync(join(dir, 'v2', 'tls.crt.new'), join(dir, 'v2', 'tls.crt'));
    await sleep(2_200);
    expect((await httpsGet(gateway.port, ca.cert)).fingerprint256).toBe(second.fingerprint256);
    // The key arrives: now the pair is whole and served.
    copyFileSync(third.keyPath, join(dir, 'v2', 'tls.key.new'));
    renameSync(join(dir, 'v2', 'tls.key.new'), join(dir, 'v2', 'tls.key'));
    await expect.poll(async () => (await httpsGet(gateway.port, ca.cert)).fingerprint256, { timeout: 5_000, interval: 100 }).toBe(third.fingerprint256);
  });

  it.each([
    ['a missing key file', () => [`--tls-cert=${first.certPath}`, '--tls-key=/nonexistent/tls.key'], ['--tls-key', '/nonexistent/tls.key']],
    ['a key of another certificate', () => [`--tls-cert=${first.certPath}`, `--tls-key=${second.keyPath}`], ['--tls-key', 'not the key of --tls-cert']],
    ['a certificate without a key', () => [`--tls-cert=${first.certPath}`], ['--tls-cert', '--tls-key is needed']],
  ])('refuses to start with %s, naming the flag', async (_name, flags, mentions) => {
    const error = await startGateway([`--backends=${backend.url}`, ...flags()]).then(
      (gateway) => {
        gateways.push(gateway);
        return undefined;
      },
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    for (const text of mentions) expect((error as Error).message).toContain(text);
  });
});
