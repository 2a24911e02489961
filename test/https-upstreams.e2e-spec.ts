import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateAuthority, type Certificates, type Issued, makeCertificates } from './support/certificates.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { rawRequest } from './support/http.js';

/** What an HTTPS backend saw of one request: the SNI name asked for and the client certificate presented. */
interface Seen {
  readonly servername: string | false | null;
  readonly clientSubject: string | undefined;
}

interface HttpsBackend {
  readonly port: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** An HTTPS backend on 127.0.0.1 with `server`'s certificate; with `clientCa`, it requires client certificates that CA signed. */
async function startHttpsBackend(server: Issued, clientCa?: CertificateAuthority): Promise<HttpsBackend> {
  const seen: Seen[] = [];
  const backend = https.createServer(
    { cert: server.cert, key: server.key, ...(clientCa ? { ca: clientCa.cert, requestCert: true, rejectUnauthorized: true } : {}) },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({ servername: socket.servername, clientSubject: socket.getPeerX509Certificate()?.subject });
      res.end('secure backend');
    },
  );
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  return {
    port: (backend.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        backend.closeAllConnections();
        backend.close(() => resolve());
      }),
  };
}

describe('HTTPS upstreams (--upstream-ca, --upstream-cert/--upstream-key, --upstream-insecure)', () => {
  let certificates: Certificates;
  let backendCa: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let gatewayClient: Issued;
  let backend: HttpsBackend;
  let mtlsBackend: HttpsBackend;
  const gateways: TestGateway[] = [];
  const processes: GatewayProcess[] = [];

  beforeAll(async () => {
    certificates = makeCertificates();
    backendCa = certificates.ca('backend-ca');
    otherCa = certificates.ca('other-ca');
    const clientCa = certificates.ca('gateway-client-ca');
    gatewayClient = clientCa.client('gateway');
    backend = await startHttpsBackend(backendCa.server('backend'));
    mtlsBackend = await startHttpsBackend(backendCa.server('mtls-backend'), clientCa);
  });

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
    for (const child of processes.splice(0)) child.child.kill();
  });

  afterAll(async () => {
    await backend?.close();
    await mtlsBackend?.close();
    certificates?.remove();
  });

  async function gatewayWith(...flags: string[]): Promise<TestGateway> {
    const gateway = await startGateway(['--retries=0', ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  describe.each(ENGINES)('%s', (engine) => {
    it('verifies the backend against --upstream-ca and sends the URL host as SNI', async () => {
      const gateway = await gatewayWith(`--backends=https://localhost:${backend.port}`, `--upstream-ca=${backendCa.certPath}`, `--proxy-engine=${engine}`);
      const before = backend.seen.length;
      const response = await rawRequest(`${gateway.url}/`);
      expect([response.status, response.body.toString()]).toEqual([200, 'secure backend']);
      expect(backend.seen.slice(before).map((seen) => seen.servername)).toEqual(['localhost']);
    });

    it.each([
      ['no --upstream-ca (a private CA is not a system one)', () => []],
      ['another CA', () => [`--upstream-ca=${otherCa.certPath}`]],
    ])('answers 502 with %s, and the backend gets nothing', async (_name, flags) => {
      const gateway = await gatewayWith(`--backends=https://localhost:${backend.port}`, `--proxy-engine=${engine}`, ...flags());
      const before = backend.seen.length;
      expect((await rawRequest(`${gateway.url}/`)).status).toBe(502);
      expect(backend.seen.length).toBe(before);
    });

    it('presents --upstream-cert to a backend that requires client certificates', async () => {
      const without = await gatewayWith(`--backends=https://localhost:${mtlsBackend.port}`, `--upstream-ca=${backendCa.certPath}`, `--proxy-engine=${engine}`);
      expect((await rawRequest(`${without.url}/`)).status).toBe(502);
      const gateway = await gatewayWith(
        `--backends=https://localhost:${mtlsBackend.port}`,
        `--upstream-ca=${backendCa.certPath}`,
        `--upstream-cert=${gatewayClient.certPath}`,
        `--upstream-key=${gatewayClient.keyPath}`,
        `--proxy-engine=${engine}`,
      );
      const before = mtlsBackend.seen.length;
      expect((await rawRequest(`${gateway.url}/`)).status).toBe(200);
      expect(mtlsBackend.seen.slice(before).map((seen) => seen.clientSubject)).toEqual([gatewayClient.subject]);
    });

    it('accepts any backend certificate with --upstream-insecure', async () => {
      const gateway = await gatewayWith(`--backends=https://localhost:${backend.port}`, '--upstream-insecure', `--proxy-engine=${engine}`);
      expect((await rawRequest(`${gateway.url}/`)).status).toBe(200);
    });
  });

  it('health-checks an https backend with the same trust', async () => {
    const trusted = await gatewayWith(`--backends=https://localhost:${backend.port}`, `--upstream-ca=${backendCa.certPath}`, '--health-check-interval=50ms', '--health-check-fall=1');
    const untrusted = await gatewayWith(`--backends=https://localhost:${backend.port}`, '--health-check-interval=50ms', '--health-check-fall=1');
    await expect.poll(async () => (await rawRequest(`${untrusted.url}/health/ready`)).status, { timeout: 5_000 }).toBe(503);
    expect((await rawRequest(`${trusted.url}/health/ready`)).status).toBe(200);
  });

  it('logs why a backend certificate was refused, and warns at start about --upstream-insecure', async () => {
    const refusing = spawnGateway(['--listen=127.0.0.1:0', `--backends=https://localhost:${backend.port}`, '--retries=0', '--health-check-interval=0']);
    processes.push(refusing);
    const port = await refusing.listening;
    expect((await rawRequest(`http://127.0.0.1:${port}/`)).status).toBe(502);
    await expect.poll(() => refusing.output().stdout, { timeout: 3_000 }).toMatch(/"status":502.*(certificate|UNABLE_TO_VERIFY|self.signed)/i);

    const insecure = spawnGateway(['--listen=127.0.0.1:0', `--backends=https://localhost:${backend.port}`, '--upstream-insecure', '--health-check-interval=0']);
    processes.push(insecure);
    await insecure.listening;
    expect(insecure.output().stdout).toMatch(/"level":40.*--upstream-insecure: backend certificates are NOT verified/);
  });
});
