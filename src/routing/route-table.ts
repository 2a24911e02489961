import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMatch, RouteSpec } from '../config/routing-config.js';
import { isUnder } from './path-prefix.js';

/*
 * Which route a request takes: pure, synchronous, and on every request's path, so everything that
 * can be worked out from the routes alone is worked out once, in the constructor.
 *
 * Precedence (as Traefik and Kong document it) decides the ORDER routes are tried in; the first
 * route in that order whose every condition holds (host, path prefix, methods, headers) wins:
 *   1. routes with an exact host, then wildcard hosts (`*.example.com`; the longer suffix first),
 *      then routes without a host;
 *   2. within each of those, the longest path prefix first;
 *   3. then file order (`index`).
 * Routes of an exact host other than the request's can never match, so they are kept by host in a
 * map and only the request's own are tried: the same first match as walking the whole order.
 */

const SLASH = 0x2f;
const COLON = 0x3a;
const DOT = 0x2e;
const OPEN_BRACKET = 0x5b;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
const LAST_ASCII = 0x7f;

/**
 * The host of a Host header, as routes name it: lower-cased, without the port and without the
 * trailing dot of a fully qualified name. An IPv6 literal keeps its brackets (`[::1]:3000` ->
 * `[::1]`), as URL's `hostname` does. Undefined for a missing or empty host (`:3000`, `.`).
 * Returns its argument itself, no copy, when that is already the normal form.
 */
export function hostOf(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined) return undefined;
  const length = hostHeader.length;
  let end = length;
  let needsLowerCase = false;
  let from = 0;
  if (length > 0 && hostHeader.charCodeAt(0) === OPEN_BRACKET) {
    // IPv6 literal: its colons are not the port's; the host ends at the closing bracket.
    const close = hostHeader.indexOf(']');
    if (close !== -1) end = close + 1;
    from = end; // the brackets hold no port separator: only look for upper case below
    for (let i = 0; i < end; i++) {
      const code = hostHeader.charCodeAt(i);
      if ((code >= UPPER_A && code <= UPPER_Z) || code > LAST_ASCII) {
        needsLowerCase = true;
        break;
      }
    }
  }
  for (let i = from; i < length; i++) {
    const code = hostHeader.charCodeAt(i);
    if (code === COLON) {
      end = i;
      break;
    }
    if ((code >= UPPER_A && code <= UPPER_Z) || code > LAST_ASCII) needsLowerCase = true;
  }
  if (end > 0 && hostHeader.charCodeAt(end - 1) === DOT) end--;
  if (end === 0) return undefined;
  const host = end === length ? hostHeader : hostHeader.slice(0, end);
  return needsLowerCase ? host.toLowerCase() : host;
}

/** A route with what matching it needs, worked out once. */
interface CompiledRoute {
  readonly route: RouteSpec;
  /** The path prefix without trailing `/` (`/` itself stays). */
  readonly prefix: string;
  /** The prefix is `/`: every path matches it. */
  readonly anyPath: boolean;
  /** Strip the prefix from the forwarded path (never for prefix `/`: nothing to strip). */
  readonly strip: boolean;
  readonly methods: ReadonlySet<string> | undefined;
  /** Names lower-cased. */
  readonly headers: readonly HeaderMatch[];
}

/** Wildcard routes sharing one suffix (`*.example.com` -> `.example.com`). */
interface WildcardGroup {
  /** With its leading dot, so `example.com` itself does not end with it. */
  readonly suffix: string;
  readonly routes: readonly CompiledRoute[];
}

/** Precedence of a route's kind of host: the lower the earlier. */
type HostClass = 0 | 1 | 2;
const EXACT: HostClass = 0;
const WILDCARD: HostClass = 1;
const NO_HOST: HostClass = 2;

export class RouteTable {
  /** Every route, in precedence order: the order they are tried in. */
  readonly routes: readonly RouteSpec[];

  /** Set when the table is one route that takes every request as it is: `routeFor` returns it at once. */
  private readonly catchAll: RouteSpec | undefined;
  /** Some route names a host: only then is the Host header looked at. */
  private readonly hostMatters: boolean;
  private readonly exact = new Map<string, CompiledRoute[]>();
  /** Longer suffix first. */
  private readonly wildcards: readonly WildcardGroup[];
  private readonly anyHost: readonly CompiledRoute[];
  /** Each route as compiled, for `targetOf`. */
  private readonly compiledOf = new Map<RouteSpec, CompiledRoute>();

  constructor(routes: readonly RouteSpec[]) {
    const compiled = routes.map(compile);
    for (const entry of compiled) this.compiledOf.set(entry.route, entry);
    compiled.sort(byPrecedence);
    this.routes = compiled.map((entry) => entry.route);

    const wildcards = new Map<string, CompiledRoute[]>();
    const anyHost: CompiledRoute[] = [];
    for (const entry of compiled) {
      const host = entry.host;
      if (host === undefined) anyHost.push(entry);
      else if (entry.hostClass === WILDCARD) pushTo(wildcards, host.slice(1), entry);
      else pushTo(this.exact, host, entry);
    }
    // Map keeps insertion order, and the routes were inserted in precedence order: longer suffix first.
    this.wildcards = [...wildcards].map(([suffix, group]) => ({ suffix, routes: group }));
    this.anyHost = anyHost;
    this.hostMatters = anyHost.length !== compiled.length;

    const only = compiled.length === 1 ? compiled[0] : undefined;
    this.catchAll =
      only !== undefined && only.host === undefined && only.anyPath && only.methods === undefined && only.headers.length === 0 && !only.strip
        ? only.route
        : undefined;
  }

  /**
   * The route a request takes, or undefined when none matches; nothing is allocated (this runs for
   * every request). `targetOf` gives the request target to forward.
   * @param host the raw Host header (port, upper case and trailing dot allowed)
   * @param path the request target as Node gives it (`req.url`): path and optional `?query`
   * @param method upper case, as Node gives it
   * @param headers names lower case, as Node gives them
   */
  routeFor(host: string | undefined, path: string, method: string, headers: IncomingHttpHeaders): RouteSpec | undefined {
    if (this.catchAll !== undefined) return this.catchAll;
    if (this.hostMatters) {
      const name = hostOf(host);
      if (name !== undefined) {
        const exact = this.exact.get(name);
        if (exact !== undefined) {
          const found = firstMatch(exact, path, method, headers);
          if (found !== undefined) return found;
        }
        const wildcards = this.wildcards;
        for (let i = 0; i < wildcards.length; i++) {
          const group = wildcards[i];
          if (name.length > group.suffix.length && name.endsWith(group.suffix)) {
            const found = firstMatch(group.routes, path, method, headers);
            if (found !== undefined) return found;
          }
        }
      }
    }
    return firstMatch(this.anyHost, path, method, headers);
  }

  /** The request target to forward for a request this route matched: the prefix stripped when the route says so. */
  targetOf(route: RouteSpec, path: string): string {
    const entry = this.compiledOf.get(route);
    return entry?.strip ? stripped(entry.prefix, path) : path;
  }
}

function firstMatch(routes: readonly CompiledRoute[], path: string, method: string, headers: IncomingHttpHeaders): RouteSpec | undefined {
  for (let i = 0; i < routes.length; i++) {
    const entry = routes[i];
    if (!entry.anyPath && !isUnder(path, entry.prefix)) continue;
    if (entry.methods !== undefined && !entry.methods.has(method)) continue;
    if (entry.headers.length !== 0 && !headersMatch(entry.headers, headers)) continue;
    return entry.route;
  }
  return undefined;
}

/** `path` (which `prefix` matches) without it, query kept, always starting with `/`. */
function stripped(prefix: string, path: string): string {
  if (path.length === prefix.length) return '/';
  const rest = path.slice(prefix.length);
  return rest.charCodeAt(0) === SLASH ? rest : `/${rest}`;
}

function headersMatch(required: readonly HeaderMatch[], headers: IncomingHttpHeaders): boolean {
  for (let i = 0; i < required.length; i++) {
    const { name, value } = required[i];
    const actual = headers[name];
    if (actual === undefined) return false;
    if (typeof actual === 'string') {
      if (actual !== value) return false;
    } else if (!actual.includes(value)) return false;
  }
  return true;
}

interface Compiled extends CompiledRoute {
  /** Normal form: lower case, no trailing dot; `*.` kept on a wildcard. */
  readonly host: string | undefined;
  readonly hostClass: HostClass;
}

/**
 * The route with what matching needs. The config gives hosts, prefixes and header names in normal
 * form already; they are normalised again here all the same (once, not per request), so a route
 * written otherwise still matches rather than silently never.
 */
function compile(route: RouteSpec): Compiled {
  const host = route.host === undefined ? undefined : hostOf(route.host);
  const hostClass = host === undefined ? NO_HOST : host.startsWith('*.') ? WILDCARD : EXACT;
  let prefix = route.pathPrefix;
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === SLASH) end--;
  prefix = end === 0 ? '/' : prefix.slice(0, end);
  const anyPath = prefix === '/';
  return {
    route,
    host,
    hostClass,
    prefix,
    anyPath,
    strip: route.stripPrefix && !anyPath,
    methods: route.methods,
    headers: route.headers.map((header) => ({ name: header.name.toLowerCase(), value: header.value })),
  };
}

/** Exact host, then wildcard (longer suffix first), then none; longer prefix; file order. */
function byPrecedence(a: Compiled, b: Compiled): number {
  if (a.hostClass !== b.hostClass) return a.hostClass - b.hostClass;
  if (a.hostClass === WILDCARD) {
    const bySuffix = (b.host?.length ?? 0) - (a.host?.length ?? 0);
    if (bySuffix !== 0) return bySuffix;
  }
  const byPrefix = b.prefix.length - a.prefix.length;
  if (byPrefix !== 0) return byPrefix;
  return a.route.index - b.route.index;
}

function pushTo(map: Map<string, CompiledRoute[]>, key: string, entry: CompiledRoute): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else list.push(entry);
}
