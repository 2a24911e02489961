import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as PEM files and their contents. */
export interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 fingerprint as Node reports it (`AB:CD:…`). */
  readonly fingerprint256: string;
  readonly subject: string;
}

export interface CertificateAuthority extends Issued {
  /** A server certificate for 127.0.0.1, ::1 and localhost, or for the given DNS names alone. */
  server(name: string, dnsNames?: readonly string[]): Issued;
  /** A client certificate (extendedKeyUsage clientAuth) with this common name. */
  client(commonName: string): Issued;
}

export interface Certificates {
  readonly dir: string;
  ca(name: string): CertificateAuthority;
  remove(): void;
}

/**
 * Makes certificates with openssl in a fresh temporary directory: CAs, server certificates for
 * loopback and client certificates (EC P-256 keys: quick to make). Nothing is kept: call remove().
 */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-certs-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = (name: string) => openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  const issued = (name: string): Issued => {
    const certPath = join(dir, `${name}.crt`);
    const keyPath = join(dir, `${name}.key`);
    const cert = readFileSync(certPath);
    const x509 = new X509Certificate(cert);
    return { certPath, keyPath, cert, key: readFileSync(keyPath), fingerprint256: x509.fingerprint256, subject: x509.subject };
  };
  return {
    dir,
    ca(caName) {
      newKey(caName);
      openssl('req', '-x509', '-new', '-key', `${caName}.key`, '-sha256', '-days', '2', '-subj', `/CN=${caName}`, '-out', `${caName}.crt`);
      const sign = (name: string, subject: string, extensions: string) => {
        newKey(name);
        openssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
        writeFileSync(join(dir, `${name}.ext`), extensions);
        openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
        return issued(name);
      };
      return {
        ...issued(caName),
        server: (name, dnsNames) =>
          sign(name, `/CN=${name}`, `subjectAltName=${dnsNames ? dnsNames.map((dns) => `DNS:${dns}`).join(',') : 'IP:127.0.0.1,IP:::1,DNS:localhost'}\nextendedKeyUsage=serverAuth\n`),
        client: (commonName) => sign(commonName, `/CN=${commonName}/O=Gateway Tests`, 'extendedKeyUsage=clientAuth\n'),
      };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
