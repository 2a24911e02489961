import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { HashOn } from './routing-config.js';

/**
 * Parsers for flag values. Each takes the raw text and returns the typed value or throws a
 * RangeError whose message says what was expected; the caller adds the flag's name and value.
 */
const WHOLE_NUMBER = /^\d+$/;

export function parseWholeNumber(text: string): number {
  if (!WHOLE_NUMBER.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new RangeError('expected a whole number such as 100');
  }
  return Number(text);
}

export function parsePositiveWholeNumber(text: string): number {
  const value = parseWholeNumber(text);
  if (value === 0) throw new RangeError('expected a whole number of at least 1');
  return value;
}

/**
 * A number of processes: a whole number of at least 1, or `auto` for one per core this process may
 * use (`os.availableParallelism()`, which honours CPU affinity, e.g. `taskset`).
 */
export function parseWorkerCount(text: string): number {
  if (text === 'auto') return availableParallelism();
  if (!WHOLE_NUMBER.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1) {
    throw new RangeError('expected a whole number of at least 1, or auto (one per core)');
  }
  return Number(text);
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1_000, kib: 1_024, mb: 1_000_000, mib: 1_048_576 };
const BYTE_SIZE = /^(\d+)\s*([a-z]*)$/i;

/** A size in bytes: `65536`, `64KiB` (1024s), `64KB` (1000s), `1MiB`. */
export function parseByteSize(text: string): number {
  const match = BYTE_SIZE.exec(text);
  const unit = match ? BYTE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new RangeError('expected a size such as 65536, 64KiB or 1MiB');
  return Number(match[1]) * unit;
}

/** A size in bytes of at least one. */
export function parsePositiveByteSize(text: string): number {
  const size = parseByteSize(text);
  if (size < 1) throw new RangeError('expected a size of at least 1 byte, such as 16KiB');
  return size;
}

/**
 * A set of HTTP statuses: `502,503,504`; `none` or nothing at all is the empty set (a flag given as
 * `--breaker-statuses=` means "none", which is why an empty value is not an error here).
 */
export function parseStatusSet(text: string): ReadonlySet<number> {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return new Set<number>();
  const statuses = trimmed.split(',').map((entry) => {
    const status = entry.trim();
    if (!/^[1-5]\d\d$/.test(status)) throw new RangeError(`expected HTTP statuses such as 502,503,504 (or none), got ${JSON.stringify(status)}`);
    return Number(status);
  });
  return new Set(statuses);
}

/** An absolute path such as `/healthz`. */
export function parsePath(text: string): string {
  if (!text.startsWith('/') || /\s/.test(text)) throw new RangeError('expected a path starting with /, such as /healthz');
  return text;
}

/** Leaves an empty value unset, so a default can come from another flag. */
export function parseOptional<T>(parse: (text: string) => T) {
  return (text: string): T | undefined => (text === '' ? undefined : parse(text));
}

/** A file's path, as given (read and checked where it is used, so a reload reads it again). */
export function parseFilePath(text: string): string {
  if (text.trim() !== text) throw new RangeError('expected a file path without leading or trailing spaces');
  return text;
}

/** `off` (or `false`) is undefined; anything else is parsed by `parse`. */
export function parseOffOr<T>(parse: (text: string) => T) {
  return (text: string): T | undefined => (text === 'off' || text === 'false' ? undefined : parse(text));
}

/** `on`/`off`, or any of Go's booleans. */
export function parseOnOff(text: string): boolean {
  if (text === 'on') return true;
  if (text === 'off') return false;
  try {
    return parseBoolean(text);
  } catch {
    throw new RangeError('expected on or off');
  }
}

/** Go's strconv.ParseBool, which its flag package uses. */
export function parseBoolean(text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw new RangeError('expected true or false');
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (text: string): T => {
    if ((choices as readonly string[]).includes(text)) return text as T;
    throw new RangeError(`expected one of ${choices.join(', ')}`);
  };
}

/**
 * A comma-separated list of backend base URLs. Only http and https make sense for a reverse
 * proxy; credentials, queries and fragments in a base URL would be silently dropped or leaked,
 * so they are refused, as is listing the same backend twice (its metrics would merge).
 */
export function parseBackendList(text: string): readonly string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new RangeError('expected at least one backend URL');
  const seen = new Set<string>();
  const backends = entries.map((entry) => {
    const identity = backendIdentityOf(parseBackendUrl(entry));
    if (seen.has(identity)) throw new RangeError(`${entry} is listed twice`);
    seen.add(identity);
    return entry.replace(/\/+$/, '');
  });
  return Object.freeze(backends);
}

/** What makes two backend URLs the same backend: WHATWG normalisation (`http://B:80` is `http://b`), and `http://b/api` and `http://b/api/` are one once proxied. */
export function backendIdentityOf(url: URL): string {
  return url.href.replace(/\/+$/, '');
}

/** One backend base URL, by the rules of --backends. @throws RangeError starting `<entry>: ` (or naming it, when it is no URL at all) */
export function parseBackendUrl(entry: string): URL {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new RangeError(`${entry} is not a URL such as http://localhost:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RangeError(`${entry}: only http:// and https:// backends are supported`);
  }
  if (url.username !== '' || url.password !== '') throw new RangeError(`${entry}: credentials are not supported in a backend URL`);
  // Checked on the text: an empty `?` or `#` parses as no query, yet would be kept in the URL.
  if (entry.includes('?') || entry.includes('#')) throw new RangeError(`${entry}: a backend URL cannot have a query or fragment`);
  return url;
}

/** DNS server addresses as node:dns takes them: `10.0.0.53`, `10.0.0.53:5353`, `fd00::53`, `[fd00::53]:5353`. */
export function parseDnsServers(text: string): readonly string[] {
  const servers = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const server of servers) {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
    const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : isIP(server) === 6 ? [server, undefined] : server.split(':');
    if (isIP(host) === 0) throw new RangeError(`${server}: expected the address of a DNS server, such as 10.0.0.53 or 127.0.0.1:5353`);
    if (port !== undefined && !(/^\d+$/.test(port) && Number(port) > 0 && Number(port) < 65536)) throw new RangeError(`${server}: expected a port from 1 to 65535`);
  }
  return Object.freeze(servers);
}

/** A bearer token (RFC 6750's token68 characters), long enough not to be guessed. */
export function parseAdminToken(text: string): string {
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(text)) throw new RangeError('expected letters, digits and - . _ ~ + / (a bearer token), such as the output of openssl rand -hex 32');
  if (text.length < 16) throw new RangeError('expected at least 16 characters, such as the output of openssl rand -hex 32');
  return text;
}

/** A Redis URL as ioredis takes it: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. */
export function parseRedisUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError('expected a URL such as redis://127.0.0.1:6379/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RangeError('expected a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0');
  if (url.hostname === '') throw new RangeError('expected a host, as in redis://127.0.0.1:6379/0');
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) throw new RangeError('expected a database number after the host, as in redis://127.0.0.1:6379/0');
  return text;
}

/** An RFC 9110 token: what a method, a header name or a cookie name must be. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const HASH_ON_MESSAGE = 'expected header:<name>, cookie:<name>, client-ip or path';

/** Why slow start is refused with consistent-hash, for the flag and the file alike (Envoy's ring hash has none either). */
export const SLOW_START_NOT_WITH_HASHING = 'slow start ramps round-robin and least-request; consistent-hash keeps each key on its backend';

/** What consistent hashing hashes: `header:X-User-Id` (any case), `cookie:session`, `client-ip` or `path`. */
export function parseHashOn(text: string): HashOn {
  if (text === 'client-ip' || text === 'path') return Object.freeze({ kind: text });
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (colon === -1 || (kind !== 'header' && kind !== 'cookie')) throw new RangeError(HASH_ON_MESSAGE);
  if (!HTTP_TOKEN.test(name)) throw new RangeError(`expected a ${kind} name after "${kind}:", such as ${kind === 'header' ? 'X-User-Id' : 'session'}`);
  // Node gives request headers lower-cased; cookie names are case-sensitive.
  return Object.freeze({ kind, name: kind === 'header' ? name.toLowerCase() : name });
}

export const COOKIE_NAME_MESSAGE = 'expected a cookie name: letters, digits and !#$%&\'*+-.^_`|~';

export function parseCookieName(text: string): string {
  if (!HTTP_TOKEN.test(text)) throw new RangeError(COOKIE_NAME_MESSAGE);
  return text;
}
