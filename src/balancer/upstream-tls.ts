import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ConfigError } from '../config/config.error.js';
import { oncePerConfig } from '../config/once-per-config.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { sourceOf } from '../config/parse-gateway-config.js';

/** What the secure context is made of, in a form a health-check thread can be sent. */
export interface UpstreamTlsMaterial {
  /** The system's CAs and Node's bundled ones, plus --upstream-ca. */
  readonly ca: string[];
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** How the gateway connects to https:// backends: whom it trusts, and the certificate it presents. */
export interface UpstreamTlsOptions {
  /** Made once: a context of some 800 CAs costs milliseconds, too much to make per connection. */
  readonly secureContext: tls.SecureContext;
  readonly material: UpstreamTlsMaterial;
  /** False only with --upstream-insecure. */
  readonly rejectUnauthorized: boolean;
}

/**
 * Reads --upstream-ca, --upstream-cert and --upstream-key once per configuration, when the first https:// backend
 * is configured (at start, or when one is added). Certificates are verified by default, against the system CAs (as curl and NGINX with
 * `proxy_ssl_trusted_certificate` would) plus --upstream-ca. SNI comes from each backend URL's host.
 * @throws ConfigError naming the flag and file
 */
export const upstreamTlsOptions = oncePerConfig(function readUpstreamTls(config: GatewayConfig): UpstreamTlsOptions {
  const ca = [...new Set([...tls.getCACertificates('default'), ...tls.getCACertificates('system')])];
  if (config.upstreamCaPath !== undefined) ca.push(read(config, 'upstreamCaPath').toString());
  const pair =
    config.upstreamCertPath === undefined ? {} : { cert: read(config, 'upstreamCertPath'), key: read(config, 'upstreamKeyPath') };
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext({ ca, ...pair });
  } catch (error) {
    const field = config.upstreamCertPath === undefined ? 'upstreamCaPath' : 'upstreamKeyPath';
    throw new ConfigError(`invalid ${sourceOf(config, field)} ${JSON.stringify(config[field])}: ${(error as Error).message}`);
  }
  return { secureContext, material: { ca, ...pair }, rejectUnauthorized: !config.upstreamInsecure };
});

function read(config: GatewayConfig, field: 'upstreamCaPath' | 'upstreamCertPath' | 'upstreamKeyPath'): Buffer {
  try {
    return readFileSync(config[field]!);
  } catch (error) {
    throw new ConfigError(`invalid ${sourceOf(config, field)} ${JSON.stringify(config[field])}: ${(error as Error).message}`);
  }
}
