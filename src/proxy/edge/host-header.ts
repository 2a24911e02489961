import type { IncomingMessage } from 'node:http';

/**
 * RFC 9112 §3.2 / RFC 3986 §3.2.2: `Host = uri-host [ ":" port ]`, where uri-host is a reg-name
 * (unreserved, sub-delims and %-escapes), an IPv4 address (a reg-name, syntactically) or an IP
 * literal in brackets. No `@`, `/`, `?`, `#` or spaces: a Host carrying those would reach the
 * backend as something other than a host.
 */
const VALID_HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::\d*)?$|^\[[0-9A-Fa-f:.]+\](?::\d*)?$/;

/**
 * Whether the request's Host is what RFC 9112 requires: exactly one Host line with a valid value on
 * HTTP/1.1 (none or one on HTTP/1.0, which predates it). Node keeps only the first of two Host
 * lines in `req.headers`, so the raw lines are counted. The last valid value is remembered: nearly
 * every request of a gateway carries one of a few Hosts.
 */
export class HostHeaderCheck {
  private lastValid: string | undefined;

  isValid(req: IncomingMessage): boolean {
    const raw = req.rawHeaders;
    let lines = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.length === 4 && name.toLowerCase() === 'host') lines++;
    }
    if (lines > 1) return false;
    const host = req.headers.host;
    if (host === undefined) return req.httpVersionMinor === 0 && req.httpVersionMajor === 1;
    if (host === this.lastValid) return true;
    if (!VALID_HOST.test(host)) return false;
    this.lastValid = host;
    return true;
  }
}
