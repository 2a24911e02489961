import { isIP } from 'node:net';
import { parseBoolean } from './value-parsers.js';

/**
 * Which peers may tell the gateway who the client is (`X-Forwarded-For`, `X-Forwarded-Proto`,
 * `X-Forwarded-Host`), as NGINX's `set_real_ip_from` + `real_ip_recursive`, Envoy's
 * `xff_num_trusted_hops` and Traefik's `trustedIPs` decide it:
 * - `none`: nobody; the client is the socket's peer (the default).
 * - `hops`: the last `hops` proxies in front of the gateway are trusted, whoever they are: the client
 *   is the `hops`-th `X-Forwarded-For` entry from the right (1: the right-most, which the proxy
 *   next to the gateway appended; entries further left were written by the client and are not believed).
 * - `addresses`: proxies at these addresses or CIDRs are trusted: from the socket's peer leftwards,
 *   the first address that is not one of them is the client.
 */
export type TrustedProxies =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'addresses'; readonly cidrs: readonly string[] };

export const TRUST_NOBODY: TrustedProxies = Object.freeze({ kind: 'none' });

/**
 * `--trust-proxy`: `false` (or `0`), `true` (one hop; what the flag alone means), a number of hops,
 * or a comma-separated list of addresses and CIDRs (`10.0.0.0/8,fd00::/8,192.0.2.7`).
 */
export function parseTrustedProxies(text: string): TrustedProxies {
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (!Number.isSafeInteger(hops)) throw new RangeError(TRUST_PROXY_EXPECTED);
    return hops === 0 ? TRUST_NOBODY : { kind: 'hops', hops };
  }
  let trusted: boolean | undefined;
  try {
    trusted = parseBoolean(text);
  } catch {
    trusted = undefined;
  }
  if (trusted !== undefined) return trusted ? { kind: 'hops', hops: 1 } : TRUST_NOBODY;
  const cidrs = text.split(',').map((entry) => entry.trim());
  if (cidrs.some((cidr) => !isAddressOrCidr(cidr))) throw new RangeError(TRUST_PROXY_EXPECTED);
  return { kind: 'addresses', cidrs };
}

const TRUST_PROXY_EXPECTED = 'expected false, true, a number of trusted proxy hops, or a comma-separated list of trusted addresses and CIDRs (10.0.0.0/8,fd00::/8)';

function isAddressOrCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const prefix = text.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
