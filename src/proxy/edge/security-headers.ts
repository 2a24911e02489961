import type { OutgoingHttpHeaders } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';

/**
 * The headers every response carries (--security-headers): `X-Content-Type-Options: nosniff`, and
 * over TLS `Strict-Transport-Security` (--hsts; never over plain HTTP, where RFC 6797 says browsers
 * ignore it). A backend's own value of either is kept.
 */
@Injectable()
export class SecurityHeaders {
  /** For the gateway's own answers, which have no backend value to keep. */
  readonly own: Readonly<Record<string, string>>;
  private readonly names: readonly string[];
  private readonly values: readonly string[];

  constructor(@Inject(GATEWAY_CONFIG) config: Pick<GatewayConfig, 'securityHeaders' | 'hsts' | 'tlsCertPath'>) {
    const own: Record<string, string> = {};
    if (config.securityHeaders) {
      own['x-content-type-options'] = 'nosniff';
      if (config.tlsCertPath !== undefined && config.hsts !== undefined) own['strict-transport-security'] = config.hsts;
    }
    this.own = Object.freeze(own);
    this.names = Object.keys(own);
    this.values = Object.values(own);
  }

  /** Adds to a backend's response headers (a flat `[name, value, …]` list or an object) the ones it did not send. */
  addMissing(headers: string[] | OutgoingHttpHeaders): void {
    const { names, values } = this;
    for (let n = 0; n < names.length; n++) {
      if (Array.isArray(headers)) {
        if (!hasName(headers, names[n])) headers.push(names[n], values[n]);
      } else if (!hasKey(headers, names[n])) {
        headers[names[n]] = values[n];
      }
    }
  }
}

/** Whether a flat header list names `name` (lower-case), in any case; the length rules out most without lower-casing. */
function hasName(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const candidate = headers[i];
    if (candidate.length === name.length && candidate.toLowerCase() === name) return true;
  }
  return false;
}

function hasKey(headers: OutgoingHttpHeaders, name: string): boolean {
  for (const key of Object.keys(headers)) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}
