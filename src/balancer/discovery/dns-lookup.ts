import dns from 'node:dns';
import { isIP } from 'node:net';

/**
 * Resolves a host name to its addresses, IPv4 and IPv6, as strings (`10.0.0.2`, `fd00::2`).
 * Rejects when the name has no address at all; an implementation never resolves to an empty list.
 */
export type DnsLookup = (hostname: string) => Promise<readonly string[]>;

/** What a failed lookup rejects with: a Node-style error carrying the `code` (`ENOTFOUND`, `ENODATA`, `ETIMEOUT`...) and the name. */
export interface DnsLookupError extends Error {
  readonly code: string;
  readonly hostname: string;
}

function lookupError(hostname: string, code: string, detail: string): DnsLookupError {
  return Object.assign(new Error(`DNS lookup of ${hostname}: ${detail} (${code})`), { code, hostname });
}

/**
 * The address an IP-literal host stands for (`10.0.0.2`, `::1`, or `[::1]` as in a URL's hostname),
 * or undefined for a host name, which needs a query.
 */
function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

/** An IPv6 address as its eight groups, each four hex digits: `::1` -> `0000:...:0001` (a zone, `%eth0`, is kept at the end). */
function expandIPv6(address: string): string {
  const [bare, zone] = address.toLowerCase().split('%');
  let text = bare!;
  // An embedded IPv4 tail (`::ffff:10.0.0.1`) as its two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  const groups = [...left, ...zeros, ...right].map((group) => group.padStart(4, '0')).join(':');
  return zone === undefined ? groups : `${groups}%${zone}`;
}

/** A key that orders addresses as numbers (IPv4 first, `10.0.0.2` before `10.0.0.10`) and is equal for two spellings of one address. */
function addressKey(address: string): string {
  switch (isIP(address)) {
    case 4:
      return '4 ' + address.split('.').map((octet) => octet.padStart(3, '0')).join('.');
    case 6:
      return '6 ' + expandIPv6(address);
    default:
      // Not an address (an injected lookup may answer anything): kept, after the addresses.
      return '? ' + address;
  }
}

/**
 * Addresses in one canonical order, each once: IPv4 before IPv6, then numerically. Two answers
 * with the same addresses in another order (DNS servers rotate them) give the same list, so
 * comparing these lists tells a real change from a reshuffle.
 */
export function normaliseAddresses(addresses: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const address of addresses) {
    const key = addressKey(address);
    if (!byKey.has(key)) byKey.set(key, address);
  }
  return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
}

/**
 * The operating system's resolver (getaddrinfo), as the rest of Node uses it: honours /etc/hosts
 * and nsswitch.conf, and the system's DNS servers.
 */
export const systemDnsLookup: DnsLookup = async (hostname) => {
  const literal = ipLiteral(hostname);
  if (literal !== undefined) return [literal];
  const found = await dns.promises.lookup(hostname, { all: true, order: 'ipv4first' });
  const addresses = normaliseAddresses(found.map((entry) => entry.address));
  if (addresses.length === 0) throw lookupError(hostname, 'ENOTFOUND', 'no addresses');
  return addresses;
};

/** Tuning of `resolverDnsLookup`'s queries (c-ares's own defaults otherwise). */
export interface ResolverDnsLookupOptions {
  /** How long to wait for each try's answer (c-ares doubles it on each retry). */
  readonly timeoutMs?: number;
  /** Tries per server before giving up (c-ares's default: 4). */
  readonly tries?: number;
}

/** A family with nothing to say: the name does not exist (NXDOMAIN), or has no record of this type. */
const isNoRecords = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === dns.NOTFOUND || code === dns.NODATA;
};

/**
 * Queries the given DNS servers directly (`['10.0.0.53', '127.0.0.1:5353', '[fd00::53]:53']`),
 * A and AAAA in parallel, bypassing /etc/hosts and the system's resolver.
 *
 * A name with records of one family only resolves to those. It fails when neither family has
 * an address, and when either query fails for any other reason than "no such records" (timeout,
 * SERVFAIL, refused): a half answer would look as if the other family's addresses had gone, and
 * the caller would drain them for a transient error.
 */
export function resolverDnsLookup(servers: readonly string[], options: ResolverDnsLookupOptions = {}): DnsLookup {
  const resolver = new dns.promises.Resolver({ timeout: options.timeoutMs ?? -1, tries: options.tries ?? 4 });
  resolver.setServers(servers);
  return async (hostname) => {
    const literal = ipLiteral(hostname);
    if (literal !== undefined) return [literal];
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const families = [v4, v6];
    const failed = families.find((family) => family.status === 'rejected' && !isNoRecords(family.reason));
    if (failed?.status === 'rejected') throw failed.reason;
    const addresses = normaliseAddresses(families.flatMap((family) => (family.status === 'fulfilled' ? family.value : [])));
    if (addresses.length > 0) return addresses;
    // NXDOMAIN on both says the name does not exist; anything else, that it has no address.
    const missing = families.every((family) => family.status === 'rejected' && (family.reason as { code?: string }).code === dns.NOTFOUND);
    throw missing ? lookupError(hostname, dns.NOTFOUND, 'no such name') : lookupError(hostname, dns.NODATA, 'no A or AAAA records');
  };
}
