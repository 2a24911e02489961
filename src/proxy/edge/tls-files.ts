import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../../config/config.error.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { oncePerConfig } from '../../config/once-per-config.js';
import { sourceOf } from '../../config/parse-gateway-config.js';

/** The certificate and key as read from --tls-cert and --tls-key. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** What is wrong with a pair that cannot serve, in a few words (a key that is not the certificate's, a file that is no PEM). */
export class UnusableTlsPairError extends Error {
  constructor(
    readonly file: 'cert' | 'key' | 'pair',
    readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'UnusableTlsPairError';
  }
}

/** Reads both files and checks that they make a usable pair (the key is the certificate's). */
export function readTlsPair(certPath: string, keyPath: string): TlsPair {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certPath);
  } catch (error) {
    throw new UnusableTlsPairError('cert', error);
  }
  try {
    key = readFileSync(keyPath);
  } catch (error) {
    throw new UnusableTlsPairError('key', error);
  }
  try {
    // Throws "key values mismatch" for a key of another certificate, and on anything not PEM.
    createSecureContext({ cert, key });
  } catch (error) {
    throw new UnusableTlsPairError('pair', error);
  }
  return { cert, key };
}

/** The parts of the secure context that stay when the pair is renewed: minimum version, client CA. */
export type TlsSettings = Pick<SecureContextOptions, 'minVersion' | 'ca'>;

/** Everything the --listen server's TLS needs, or undefined for plain HTTP. @throws ConfigError naming the flag and file */
export function tlsServerOptions(config: GatewayConfig): (SecureContextOptions & { ALPNProtocols: string[]; requestCert: boolean; rejectUnauthorized: boolean }) | undefined {
  const { tlsCertPath, tlsKeyPath } = config;
  if (tlsCertPath === undefined || tlsKeyPath === undefined) return undefined;
  let pair: TlsPair;
  try {
    pair = readTlsPair(tlsCertPath, tlsKeyPath);
  } catch (error) {
    if (!(error instanceof UnusableTlsPairError)) throw error;
    const field = error.file === 'cert' ? 'tlsCertPath' : 'tlsKeyPath';
    const reason = error.file === 'pair' ? `it is not the key of ${sourceOf(config, 'tlsCertPath')} ${JSON.stringify(tlsCertPath)} (${error.message})` : error.message;
    throw new ConfigError(`invalid ${sourceOf(config, field)} ${JSON.stringify(config[field])}: ${reason}`);
  }
  const asksForCertificates = config.tlsClientCaPath !== undefined;
  return {
    ...pair,
    ...tlsSettings(config),
    ALPNProtocols: ['http/1.1'],
    requestCert: asksForCertificates,
    // Optional: the handshake lets any certificate (or none) through; the dispatcher answers 401 to an unverified one.
    rejectUnauthorized: asksForCertificates && config.tlsClientAuth === 'required',
  };
}

/** The minimum version and the client CA, read once at start. @throws ConfigError naming --tls-client-ca */
export const tlsSettings = oncePerConfig(function readTlsSettings(config: GatewayConfig): TlsSettings {
  const { tlsClientCaPath } = config;
  if (tlsClientCaPath === undefined) return { minVersion: config.tlsMinVersion };
  try {
    const ca = readFileSync(tlsClientCaPath);
    createSecureContext({ ca });
    return { minVersion: config.tlsMinVersion, ca };
  } catch (error) {
    throw new ConfigError(`invalid ${sourceOf(config, 'tlsClientCaPath')} ${JSON.stringify(tlsClientCaPath)}: ${error instanceof Error ? error.message : String(error)}`);
  }
});
