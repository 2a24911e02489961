/** `scheme://`, the authority (`user@host:port`), and the rest (path, query, fragment) exactly as written. */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is;

/** An address as a URL host: IPv6 in brackets, its zone (`%eth0`) escaped as `%25eth0`. */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address.replace('%', '%25')}]` : address;
}

/**
 * One backend URL per resolved address: the host name replaced by the address, everything else
 * (scheme, user info, port, path, query) kept as written, so `http://users.internal:8080` gets
 * no trailing slash and an explicit default port stays.
 *
 *     expandBackendUrl('http://users.internal:8080/api', ['10.0.0.2', 'fd00::2'])
 *       -> ['http://10.0.0.2:8080/api', 'http://[fd00::2]:8080/api']
 *
 * For an https:// backend the address is only where to connect: the caller keeps the original
 * host name for SNI, certificate verification and the Host header, since the certificate names
 * `users.internal`, not `10.0.0.2`.
 *
 * Throws (TypeError) for a string that is not an absolute URL with a host.
 */
export function expandBackendUrl(url: string, addresses: readonly string[]): string[] {
  const parsed = new URL(url);
  const parts = URL_PARTS.exec(url.trim());
  if (parsed.hostname === '' || !parts) throw new TypeError(`not a backend URL with a host: ${url}`);
  const [, scheme, authority, rest] = parts as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userInfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  // The port starts at the last colon after the host: after the `]` of an IPv6 literal.
  const hostEnd = hostPort.startsWith('[') ? hostPort.indexOf(']') + 1 : 0;
  const colon = hostPort.indexOf(':', hostEnd);
  const port = colon === -1 ? '' : hostPort.slice(colon);
  return addresses.map((address) => `${scheme}${userInfo}${urlHost(address)}${port}${rest}`);
}
