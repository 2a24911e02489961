import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { type CertificateAuthority, type Certificates, type Issued, makeCertificates } from './support/certificates.js';
import { ENGINES } from './support/engines.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { rawRequest } from './support/http.js';

/** One HTTPS request on a fresh connection, as `client` (or with no certificate); the status and body, or the error. */
function request(port: number, ca: Buffer, client?: Issued, headers: Record<string, string> = {}): Promise<{ status: number; body: string; served: string } | { error: string }> {
  return new Promise((resolve) => {
    const options: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, path: '/whoami', ca, agent: false, headers, cert: client?.cert, key: client?.key, timeout: 5_000 };
    const req = https.request(options, (res) => {
      const served = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), served }));
      res.on('error', (error) => resolve({ error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve({ error: error.message }));
    req.end();
  });
}

describe('mutual TLS (--tls-client-ca, --tls-client-auth)', () => {
  let certificates: Certificates;
  let serverCa: CertificateAuthority;
  let clientCa: CertificateAuthority;
  let server: Issued;
  let renewed: Issued;
  let alice: Issued;
  let mallory: Issued;
  let backend: TestBackend;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    certificates = makeCertificates();
    serverCa = certificates.ca('server-ca');
    clientCa = certificates.ca('client-ca');
    server = serverCa.server('gateway');
    renewed = serverCa.server('gateway-renewed');
    alice = clientCa.client('alice');
    // Signed by a CA the gateway does not trust.
    mallory = certificates.ca('rogue-ca').client('mallory');
    backend = await startBackend({
      handler: (req, res) => res.end(JSON.stringify({ subject: req.headers['x-client-cert-subject'], fingerprint: req.headers['x-client-cert-fingerprint'] })),
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
    const gateway = await startGateway([`--backends=${backend.url}`, `--tls-cert=${server.certPath}`, `--tls-key=${server.keyPath}`, ...flags]);
    gateways.push(gateway);
    return gateway;
  }

  const aliceSeen = () => ({ subject: alice.subject.split('\n').reverse().join(','), fingerprint: alice.fingerprint256.replaceAll(':', '').toLowerCase() });

  describe.each(ENGINES)('required (%s)', (engine) => {
    it('refuses a client without a certificate, or with one from another CA, in the handshake', async () => {
      const gateway = await gatewayWith(`--tls-client-ca=${clientCa.certPath}`, `--proxy-engine=${engine}`);
      const before = backend.arrivals.length;
      expect(await request(gateway.port, serverCa.cert)).toHaveProperty('error');
      expect(await request(gateway.port, serverCa.cert, mallory)).toHaveProperty('error');
      expect(backend.arrivals.length).toBe(before);
    });

    it("tells the backend the verified subject and SHA-256 fingerprint, never the client's own headers of those names", async () => {
      const gateway = await gatewayWith(`--tls-client-ca=${clientCa.certPath}`, `--proxy-engine=${engine}`);
      const response = await request(gateway.port, serverCa.cert, alice, { 'x-client-cert-subject': 'CN=admin', 'x-client-cert-fingerprint': '00' });
      expect(response).toMatchObject({ status: 200 });
      expect(JSON.parse((response as { body: string }).body)).toEqual(aliceSeen());
    });
  });

  it('with optional: serves a client without a certificate (no headers), 401 to one the CA did not sign, and names a verified one', async () => {
    const gateway = await gatewayWith(`--tls-client-ca=${clientCa.certPath}`, '--tls-client-auth=optional');
    const anonymous = await request(gateway.port, serverCa.cert, undefined, { 'x-client-cert-subject': 'CN=admin' });
    expect(anonymous).toMatchObject({ status: 200 });
    expect(JSON.parse((anonymous as { body: string }).body)).toEqual({});
    const before = backend.arrivals.length;
    const rogue = await request(gateway.port, serverCa.cert, mallory);
    expect(rogue).toMatchObject({ status: 401 });
    expect(backend.arrivals.length).toBe(before);
    const verified = await request(gateway.port, serverCa.cert, alice);
    expect(JSON.parse((verified as { body: string }).body)).toEqual(aliceSeen());
  });

  it('strips client-sent X-Client-Cert-* headers without mutual TLS too', async () => {
    const plain = await startGateway([`--backends=${backend.url}`]);
    gateways.push(plain);
    const response = await rawRequest(`${plain.url}/whoami`, { headers: { 'x-client-cert-subject': 'CN=admin', 'x-client-cert-fingerprint': '00' } });
    expect(JSON.parse(response.body.toString())).toEqual({});
  });

  it('still asks for client certificates after the server certificate is renewed', async () => {
    const dir = join(certificates.dir, 'mtls-renewal');
    mkdirSync(dir);
    const certPath = join(dir, 'tls.crt');
    const keyPath = join(dir, 'tls.key');
    copyFileSync(server.certPath, certPath);
    copyFileSync(server.keyPath, keyPath);
    const gateway = await startGateway([`--backends=${backend.url}`, `--tls-cert=${certPath}`, `--tls-key=${keyPath}`, `--tls-client-ca=${clientCa.certPath}`]);
    gateways.push(gateway);
    copyFileSync(renewed.keyPath, `${keyPath}.new`);
    copyFileSync(renewed.certPath, `${certPath}.new`);
    renameSync(`${keyPath}.new`, keyPath);
    renameSync(`${certPath}.new`, certPath);
    await expect
      .poll(async () => ((await request(gateway.port, serverCa.cert, alice)) as { served?: string }).served, { timeout: 5_000, interval: 100 })
      .toBe(renewed.fingerprint256);
    expect(await request(gateway.port, serverCa.cert)).toHaveProperty('error');
    expect(await request(gateway.port, serverCa.cert, alice)).toMatchObject({ status: 200 });
  });
});
