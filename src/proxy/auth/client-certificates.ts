import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';

/** A client certificate the --tls-client-ca signed, as the backend is told of it. */
export interface VerifiedClient {
  /** RFC 4514 form, most specific first: `CN=alice,O=Example`. */
  readonly subject: string;
  /** SHA-256 of the certificate (DER), lower-case hex. */
  readonly fingerprint: string;
}

/** A certificate was presented, but --tls-client-ca did not sign it (with --tls-client-auth=optional). */
export const UNVERIFIED = 'unverified';

const SUBJECT_HEADER = 'x-client-cert-subject';
const FINGERPRINT_HEADER = 'x-client-cert-fingerprint';

/**
 * Mutual TLS as the backend sees it: the verified client certificate's subject and fingerprint in
 * `X-Client-Cert-Subject` and `X-Client-Cert-Fingerprint`. A client can never send those itself:
 * they are removed from every request first, with or without mutual TLS. Read once per connection.
 */
@Injectable()
export class ClientCertificates {
  readonly enabled: boolean;
  private readonly byConnection = new WeakMap<TLSSocket, VerifiedClient | typeof UNVERIFIED | undefined>();

  constructor(@Inject(GATEWAY_CONFIG) config: Pick<GatewayConfig, 'tlsClientCaPath'>) {
    this.enabled = config.tlsClientCaPath !== undefined;
  }

  /** The connection's verified client; UNVERIFIED for a certificate the CA did not sign; undefined for none. */
  of(socket: TLSSocket): VerifiedClient | typeof UNVERIFIED | undefined {
    if (!this.enabled) return undefined;
    if (this.byConnection.has(socket)) return this.byConnection.get(socket);
    const certificate = socket.getPeerX509Certificate?.();
    const client = certificate === undefined ? undefined : socket.authorized ? { subject: rfc4514(certificate.subject), fingerprint: certificate.fingerprint256.replaceAll(':', '').toLowerCase() } : UNVERIFIED;
    this.byConnection.set(socket, client);
    return client;
  }

  /** Removes the client's own X-Client-Cert-* headers, then adds the verified certificate's. */
  stamp(headers: IncomingHttpHeaders, socket: TLSSocket): void {
    if (headers[SUBJECT_HEADER] !== undefined) delete headers[SUBJECT_HEADER];
    if (headers[FINGERPRINT_HEADER] !== undefined) delete headers[FINGERPRINT_HEADER];
    const client = this.of(socket);
    if (client === undefined || client === UNVERIFIED) return;
    headers[SUBJECT_HEADER] = client.subject;
    headers[FINGERPRINT_HEADER] = client.fingerprint;
  }
}

/**
 * Node's subject (`C=…\nO=…\nCN=…`, in certificate order) as an RFC 4514 string: reversed, comma
 * separated, special characters escaped, and anything outside printable ASCII as `\XX` so the
 * header is always valid.
 */
export function rfc4514(subject: string): string {
  return subject
    .split('\n')
    .reverse()
    .map((attribute) => {
      const equals = attribute.indexOf('=');
      const value = attribute.slice(equals + 1);
      const escaped = Array.from(Buffer.from(value, 'utf8'))
        .map((byte) => (byte < 0x20 || byte > 0x7e ? `\\${byte.toString(16).toUpperCase().padStart(2, '0')}` : /[,+"\\<>;]/.test(String.fromCharCode(byte)) ? `\\${String.fromCharCode(byte)}` : String.fromCharCode(byte)))
        .join('');
      return `${attribute.slice(0, equals)}=${escaped}`;
    })
    .join(',');
}
