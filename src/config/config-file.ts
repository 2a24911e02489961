import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { GatewayConfig } from './gateway-config.js';
import {
  BALANCE_STRATEGIES,
  DEFAULT_SERVICE,
  SAME_SITE_VALUES,
  type BackendSpec,
  type HeaderMatch,
  type RouteSpec,
  type RoutingConfig,
  type ServiceSettings,
  type ServiceSpec,
} from './routing-config.js';
import { backendIdentityOf, COOKIE_NAME_MESSAGE, HASH_ON_MESSAGE, HTTP_TOKEN, parseBackendUrl, parseHashOn, SLOW_START_NOT_WITH_HASHING } from './value-parsers.js';

/**
 * The gateway's declarative config file (`--config=gateway.yaml`): services (backends and their
 * per-backend settings) and routes (which requests go to which service). Read, validated with zod
 * (every problem reported, each naming where it is in the file) and resolved against the flags,
 * which give every setting the file leaves out.
 */

/** The file cannot be used: one line per problem, each naming its place in the file and the value found there. */
export class ConfigFileError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigFileError';
    this.problems = Object.freeze([...problems]);
  }
}

// ---------------------------------------------------------------------------------------------
// The schema. Messages say what was expected; the value found is added when the problem is reported.

/** What parseDuration reads (Go's syntax), as a pattern so editors check it too; `0` needs no unit. */
const GO_DURATION = /^\+?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const DURATION_MESSAGE = 'expected a duration such as 5s or 1m30s';

/** Exact host name labels, or `*.` as the whole first label; no scheme, no port. (JSON Schema has no `i` flag: both cases are spelled out.) */
const HOST = /^(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;

/** Service names become Prometheus label values and admin URL path segments. */
const SERVICE_NAME = /^[A-Za-z0-9._-]+$/;

/** One URL, no list: a comma or space would make parseBackendList read several. */
const SINGLE_URL = /^[^\s,]+$/;
const BACKEND_URL_MESSAGE = 'expected a backend URL such as http://127.0.0.1:8080';

/** Refinements that must run even where other parts of the value failed, so every problem is reported at once. */
const ALWAYS = { when: () => true };

/** A strict mapping whose messages list the keys it takes. */
function mapping<Shape extends z.ZodRawShape>(shape: Shape) {
  const keys = Object.keys(shape)
    .filter((key) => !key.startsWith('$'))
    .join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key; expected one of ${keys}` : `expected a mapping of ${keys}`),
  });
}

/**
 * Not `z.int()`: its check on a fraction aborts the whole parse, which would silence the cross-field
 * checks; `multipleOf(1)` fails alone (and {@link configJsonSchema} still calls it an integer).
 */
function wholeNumber(min: number, message = `expected a whole number ≥ ${min}`, max = Number.MAX_SAFE_INTEGER) {
  return z.number({ error: message }).multipleOf(1, { error: message }).min(min, { error: message }).max(max, { error: message });
}

const flag = z.boolean({ error: 'expected true or false' });

/** Milliseconds from a Go duration; a bare `0` is accepted too (YAML reads `interval: 0` as a number). */
function duration() {
  return z
    .union([z.literal(0), z.string().regex(GO_DURATION, DURATION_MESSAGE)], { error: DURATION_MESSAGE })
    .transform((value) => (value === 0 ? 0 : parseDuration(value)));
}

const POSITIVE_DURATION_MESSAGE = 'expected a duration above zero, such as 5s';

function positiveDuration() {
  return z
    .string({ error: POSITIVE_DURATION_MESSAGE })
    .regex(GO_DURATION, POSITIVE_DURATION_MESSAGE)
    .transform(parseDuration)
    .refine((ms) => ms > 0, POSITIVE_DURATION_MESSAGE);
}

/** What parseBackendUrl finds wrong with one URL (the same rules as --backends), without the URL it repeats. */
function backendUrlProblem(url: string): string | undefined {
  try {
    parseBackendUrl(url);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    return message.startsWith(`${url}: `) ? message.slice(url.length + 2) : BACKEND_URL_MESSAGE;
  }
}

const backendUrl = z
  .string({ error: BACKEND_URL_MESSAGE })
  .regex(SINGLE_URL, BACKEND_URL_MESSAGE)
  .superRefine((url, context) => {
    // Not `abort` on the regex: an explicit abort would also stop the cross-field checks above.
    if (!SINGLE_URL.test(url)) return;
    const problem = backendUrlProblem(url);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  })
  .overwrite((url) => url.replace(/\/+$/, ''))
  .describe('http:// or https:// base URL; a path in it prefixes every proxied path');

/** A bare URL (weight 1) or `{ url, weight }`; kept as written so a repeated one can be pointed at. */
const backendEntry = z.union(
  [
    backendUrl,
    mapping({
      url: backendUrl,
      weight: wholeNumber(1).default(1).describe("share of the service's traffic relative to its other backends"),
      drained: z
        .boolean({ error: 'expected true or false' })
        .optional()
        .describe('true: configured but taking no new requests (the admin API sets it; NGINX down, HAProxy maintenance)'),
    }),
  ],
  { error: `${BACKEND_URL_MESSAGE}, or a mapping of url, weight, drained` },
);

type BackendEntry = z.output<typeof backendEntry>;

const backends = z
  .array(backendEntry, { error: 'expected a list of backends' })
  .min(1, 'expected at least one backend')
  .superRefine(refuseRepeatedBackends, ALWAYS);

const httpStatus = wholeNumber(100, 'expected an HTTP status from 100 to 599', 599);

const breaker = mapping({
  failures: wholeNumber(0).optional().describe("consecutive failures that open a backend's breaker; 0 turns breakers off (--breaker-failures)"),
  cooldown: duration().optional().describe('how long an open breaker keeps its backend out (--breaker-cooldown)'),
  statuses: z
    .array(httpStatus, { error: 'expected a list of HTTP statuses such as [502, 503, 504]' })
    .optional()
    .describe('backend statuses that count as failures; [] for none (--breaker-statuses)'),
});

const healthCheck = mapping({
  interval: duration().optional().describe('time between checks of each backend; 0 turns them off (--health-check-interval)'),
  path: z
    .string({ error: 'expected a path starting with /, such as /healthz' })
    .regex(/^\/\S*$/, 'expected a path starting with /, such as /healthz')
    .optional()
    .describe('path the checks GET on each backend (--health-check-path)'),
  timeout: duration().optional().describe('longest a check may take (--health-check-timeout)'),
  fall: wholeNumber(1).optional().describe('failed checks in a row that take a backend out (--health-check-fall)'),
  rise: wholeNumber(1).optional().describe('passed checks in a row that put it back (--health-check-rise)'),
});

const hashOn = z
  .string({ error: HASH_ON_MESSAGE })
  .superRefine((text, context) => {
    try {
      parseHashOn(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })
  .transform(parseHashOn)
  .describe('what consistent-hash hashes: header:<name>, cookie:<name>, client-ip or path (--hash-on)');

const BOUNDED_LOAD_MESSAGE = 'expected a number above 1, such as 1.25';

const sticky = mapping({
  cookie: z.string({ error: COOKIE_NAME_MESSAGE }).regex(HTTP_TOKEN, COOKIE_NAME_MESSAGE).describe("the cookie's name; its value names the backend (a hash of its URL)"),
  secure: flag.default(false).describe('send the cookie over HTTPS only'),
  httpOnly: flag.default(true).describe('hide the cookie from page scripts'),
  sameSite: z
    .enum(SAME_SITE_VALUES, { error: `expected one of ${SAME_SITE_VALUES.join(', ')}` })
    .default('Lax')
    .describe("the cookie's SameSite attribute"),
});

const service = mapping({
  backends: backends.describe('bare URLs (weight 1) or mappings of url, weight'),
  balance: z
    .enum(BALANCE_STRATEGIES, { error: `expected one of ${BALANCE_STRATEGIES.join(', ')}` })
    .optional()
    .describe('how requests are spread over the backends (--balance): round-robin by weight, least-request, or consistent-hash on hashOn'),
  hashOn: hashOn.optional(),
  boundedLoad: z
    .number({ error: BOUNDED_LOAD_MESSAGE })
    .gt(1, { error: BOUNDED_LOAD_MESSAGE })
    .optional()
    .describe("consistent-hash: no backend takes more than this times the average of requests in flight; a key over it goes on round the ring (Envoy's hash_balance_factor)"),
  sticky: sticky.optional().describe('sticky sessions: a cookie keeps each client on the backend that answered it (--sticky-cookie)'),
  slowStart: duration()
    .optional()
    .describe('how long a backend that comes back ramps up from a tenth of its weight to all of it; 0 is off (--slow-start)'),
  retries: wholeNumber(0).optional().describe('times a failed request may be tried again (--retries)'),
  writeTimeout: duration().optional().describe("longest wait for a backend's response headers or next body byte; 0 means none (--write-timeout)"),
  tryTimeout: duration().optional().describe("longest wait for one try's response headers (--try-timeout)"),
  maxInflightPerBackend: wholeNumber(0).optional().describe('most requests in flight to one backend; 0 means no cap (--max-inflight-per-backend)'),
  maxSocketsPerBackend: wholeNumber(1).optional().describe('most connections open at once to one backend (--max-sockets-per-backend)'),
  breaker: breaker.optional(),
  healthCheck: healthCheck.optional(),
  resolve: flag.optional().describe('re-resolve backend host names by DNS, every address a backend (--resolve-backends)'),
  dnsRefresh: positiveDuration().optional().describe('how often names are re-resolved when resolve is on (--dns-refresh)'),
});

type ServiceDocument = z.output<typeof service>;

/** A header value must be text: `X-Version: 2` in YAML is a number, which is refused rather than guessed at. */
function headerValueMessage(issue: { input?: unknown }): string {
  const { input } = issue;
  return typeof input === 'number' || typeof input === 'boolean' ? `expected a string; write it in quotes: "${String(input)}"` : 'expected a string';
}

const headers = z
  .record(z.string().regex(HTTP_TOKEN, 'expected a header name such as X-Version'), z.string({ error: headerValueMessage }), {
    error: 'expected a mapping of header names to values',
  })
  .superRefine(refuseRepeatedHeaders, ALWAYS)
  .describe('headers a request must carry, each with exactly this value (names are case-insensitive)');

const match = mapping({
  host: z
    .string({ error: 'expected a host name such as api.example.com or *.example.com' })
    .regex(HOST, 'expected a host name such as api.example.com or *.example.com, without scheme or port')
    .toLowerCase()
    .optional()
    .describe('exact host, or *.example.com for any subdomain; any host when left out'),
  pathPrefix: z
    .string({ error: 'expected a path prefix starting with /, such as /users' })
    .regex(/^\/[^\s?#]*$/, 'expected a path prefix starting with /, such as /users')
    .overwrite((prefix) => prefix.replace(/\/+$/, '') || '/')
    .default('/')
    .describe('matches on a segment boundary: /users matches /users and /users/42, not /usersx'),
  methods: z
    .array(z.string({ error: 'expected a method such as GET' }).regex(HTTP_TOKEN, 'expected a method such as GET').toUpperCase(), {
      error: 'expected a list of methods such as [GET, POST]',
    })
    .min(1, 'expected at least one method (leave methods out to match any)')
    .optional()
    .describe('any method when left out'),
  headers: headers.optional(),
});

const route = mapping({
  match: match.optional().describe('every request when left out'),
  service: z.string({ error: 'expected the name of a service in services' }).describe('a key of services'),
  stripPrefix: flag.default(false).describe('remove the matched path prefix before forwarding: /users/42 reaches the backend as /42'),
  rateLimit: wholeNumber(0).optional().describe("this route's own requests per second per client; the gateway's --rate-limit when left out"),
});

type RouteDocument = z.output<typeof route>;

/** The config file, as written: the input of {@link resolveConfigDocument}. */
export const configDocumentSchema = mapping({
  $schema: z.string().optional().describe('the JSON Schema of this file, for editors'),
  services: z
    .record(z.string().regex(SERVICE_NAME, 'expected a service name of letters, digits, ., _ and -'), service, {
      error: 'expected a mapping of service names to services',
    })
    .refine((services) => Object.keys(services).length > 0, 'expected at least one service')
    .describe('by name: letters, digits, ., _ and -'),
  routes: z
    .array(route, { error: 'expected a list of routes' })
    .min(1, 'expected at least one route (without one every request is answered 404)')
    .describe('when several match, the most specific wins; the first written breaks ties'),
})
  .superRefine(refuseUnknownServices, ALWAYS)
  .superRefine(refuseBackendsOfTwoServices, ALWAYS)
  .meta({
    title: 'Gateway config file',
    description: 'Services (backends and their settings; what is left out comes from the flags) and the routes that lead requests to them.',
  });

type ConfigDocument = z.output<typeof configDocumentSchema>;

// ---------------------------------------------------------------------------------------------
// Cross-field checks. They run even when other parts failed, so they see values that may not
// have the schema's shape: each looks before it touches.

type RefinementContext = z.core.$RefinementCtx<unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The same backend twice would merge its metrics and double its share: refuse it, as --backends does. */
function refuseRepeatedBackends(entries: readonly unknown[], context: RefinementContext): void {
  if (!Array.isArray(entries)) return;
  const firstIndexOf = new Map<string, number>();
  entries.forEach((entry, index) => {
    const identity = identityOfEntry(entry);
    if (identity === undefined) return;
    const first = firstIndexOf.get(identity);
    if (first === undefined) firstIndexOf.set(identity, index);
    else context.addIssue({ code: 'custom', path: pathOfUrl(entry, [index]), message: `the same backend as backends[${first}]` });
  });
}

/** The URL of an entry of a `backends` list, a bare URL or `{ url, … }`; undefined for anything else. */
export function urlOfBackendEntry(entry: unknown): string | undefined {
  const url = typeof entry === 'string' ? entry : isRecord(entry) ? entry.url : undefined;
  return typeof url === 'string' ? url : undefined;
}

/** The identity (backendIdentity) of an entry of a `backends` list; undefined for an entry without a usable URL. */
export function identityOfEntry(entry: unknown): string | undefined {
  const url = urlOfBackendEntry(entry);
  return url === undefined ? undefined : backendIdentity(url);
}

/** Where a problem with an entry's URL is: the entry itself when bare, its `url` otherwise. */
function pathOfUrl(entry: unknown, entryPath: readonly PropertyKey[]): PropertyKey[] {
  return typeof entry === 'string' ? [...entryPath] : [...entryPath, 'url'];
}

/**
 * What makes two URLs the same backend (see backendIdentityOf: `http://B:80/` is `http://b`);
 * undefined for a URL that is not a usable backend URL.
 */
export function backendIdentity(url: string): string | undefined {
  if (!SINGLE_URL.test(url)) return undefined;
  try {
    return backendIdentityOf(parseBackendUrl(url));
  } catch {
    return undefined;
  }
}

/** Header names are case-insensitive: `X-Version` and `x-version` would be one condition written twice. */
function refuseRepeatedHeaders(headerValues: Record<string, unknown>, context: RefinementContext): void {
  if (!isRecord(headerValues)) return;
  const firstNameOf = new Map<string, string>();
  for (const name of Object.keys(headerValues)) {
    const first = firstNameOf.get(name.toLowerCase());
    if (first === undefined) firstNameOf.set(name.toLowerCase(), name);
    else context.addIssue({ code: 'custom', path: [name], message: `the same header as ${first}` });
  }
}

/**
 * A backend belongs to one service: its breaker, health, connections and metrics are its own, and
 * two services' settings (breaker, checks, caps) could not both apply to them.
 */
function refuseBackendsOfTwoServices(document: unknown, context: RefinementContext): void {
  if (!isRecord(document) || !isRecord(document.services)) return;
  const ownerOf = new Map<string, string>();
  for (const [name, service] of Object.entries(document.services)) {
    if (!isRecord(service) || !Array.isArray(service.backends)) continue;
    service.backends.forEach((entry: unknown, index) => {
      const identity = identityOfEntry(entry);
      if (identity === undefined) return;
      const owner = ownerOf.get(identity);
      if (owner === undefined) ownerOf.set(identity, name);
      else if (owner !== name) {
        const path = pathOfUrl(entry, ['services', name, 'backends', index]);
        context.addIssue({ code: 'custom', path, message: `already a backend of service ${owner} (a backend belongs to one service)` });
      }
    });
  }
}

function refuseUnknownServices(document: unknown, context: RefinementContext): void {
  if (!isRecord(document) || !isRecord(document.services) || !Array.isArray(document.routes)) return;
  const services = document.services;
  document.routes.forEach((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.service !== 'string' || Object.hasOwn(services, entry.service)) return;
    context.addIssue({ code: 'custom', path: ['routes', index, 'service'], message: `no service ${JSON.stringify(entry.service)} in services` });
  });
}

// ---------------------------------------------------------------------------------------------
// Problems, one line each: `services.users.backends[1].weight: expected …, got "x"`.

type PathPart = PropertyKey;

const LONGEST_VALUE = 60;

function problemLines(issue: z.core.$ZodIssue, document: unknown, base: readonly PathPart[] = []): string[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => problemLine([...path, key], issue.message, valueAt(document, [...path, key])));
    case 'invalid_key':
      // The key itself is the value at fault.
      return issue.issues.map((inner) => problemLine(path, inner.message, path.at(-1)));
    case 'invalid_union': {
      const branch = theBranchMeant(issue.errors);
      if (branch) return branch.flatMap((inner) => problemLines(inner, document, path));
      break;
    }
  }
  return [problemLine(path, issue.message, valueAt(document, path))];
}

/**
 * Of a union's failed branches, the one the value was evidently meant for: the only one that did not
 * fail on the value's type (`{ url, weight: "x" }` was meant as a mapping, so its weight is the problem).
 */
function theBranchMeant(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const meant = branches.filter((issues) => !issues.every((inner) => inner.path.length === 0 && (inner.code === 'invalid_type' || inner.code === 'invalid_value')));
  return meant.length === 1 ? meant[0] : undefined;
}

function problemLine(path: readonly PathPart[], message: string, value: unknown): string {
  return `${formatPath(path)}: ${message}, got ${describeValue(value)}`;
}

/** `services.users.backends[1].weight`; a key that is not a plain word is quoted: `services["users.v2"]`. */
function formatPath(path: readonly PathPart[]): string {
  if (path.length === 0) return 'the file';
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      const key = String(part);
      if (!/^[A-Za-z0-9_$-]+$/.test(key)) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join('');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  // A parsed document holds only what JSON can show (undefined, handled above, aside).
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > LONGEST_VALUE ? `${text.slice(0, LONGEST_VALUE)}…` : text;
}

function valueAt(document: unknown, path: readonly PathPart[]): unknown {
  let value = document;
  for (const part of path) {
    if (typeof value !== 'object' || value === null || typeof part === 'symbol') return undefined;
    value = Object.hasOwn(value, part) ? (value as Record<string | number, unknown>)[part] : undefined;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Reading and resolving.

/**
 * Reads the config file: `.json` as JSON, anything else (`.yaml`, `.yml`, …) as YAML, which reads
 * JSON too. YAML merge keys (`<<: *defaults`) are allowed, so services can share settings.
 * @throws ConfigFileError when the file cannot be read or parsed, or holds nothing (its lines do not
 * repeat the path, except in the system's own message about reading it).
 */
export function readConfigDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError([(error as Error).message]);
  }
  const document = extname(path).toLowerCase() === '.json' ? parseJson(text) : parseYamlText(text);
  if (document === null || document === undefined) throw new ConfigFileError(['the file is empty: expected services and routes']);
  return document;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigFileError([`not JSON: ${firstLineOf(error)}`]);
  }
}

function parseYamlText(text: string): unknown {
  try {
    return parseYaml(text, { merge: true }) as unknown;
  } catch (error) {
    throw new ConfigFileError([`not YAML or JSON: ${firstLineOf(error)}`]);
  }
}

function firstLineOf(error: unknown): string {
  return (error as Error).message.split('\n')[0];
}

/**
 * Validates a config document (as {@link readConfigDocument} returns it) and resolves it against
 * the flags: a setting the file leaves out is the flag's. Routes keep the file's order (`index`).
 * @throws ConfigFileError listing every problem, one line each.
 */
export function resolveConfigDocument(document: unknown, flags: GatewayConfig): RoutingConfig {
  const result = configDocumentSchema.safeParse(document);
  if (!result.success) throw new ConfigFileError(result.error.issues.flatMap((issue) => problemLines(issue, document)));
  return routingOf(result.data, flags, document);
}

function routingOf(parsed: ConfigDocument, flags: GatewayConfig, document: unknown): RoutingConfig {
  const defaults = settingsFromFlags(flags);
  const services = new Map(Object.entries(parsed.services).map(([name, spec]) => [name, serviceOf(name, spec, defaults)] as const));
  const problems = balancingProblems(parsed, services, document);
  if (problems.length > 0) throw new ConfigFileError(problems);
  const routes = Object.freeze(parsed.routes.map(routeOf));
  return Object.freeze({ services, routes, hash: configHash(document), document });
}

function serviceOf(name: string, spec: ServiceDocument, defaults: ServiceSettings): ServiceSpec {
  return Object.freeze({ name, backends: Object.freeze(spec.backends.map(backendOf)), settings: settingsOf(spec, defaults) });
}

function backendOf(entry: BackendEntry): BackendSpec {
  return Object.freeze(typeof entry === 'string' ? { url: entry, weight: 1, drained: false } : { url: entry.url, weight: entry.weight, drained: entry.drained ?? false });
}

/**
 * What the balancing settings of each service mean only together, once the flags have filled in
 * what the file left out: consistent-hash needs a key, its settings need consistent-hash, and two
 * services' sticky cookies need names of their own.
 */
function balancingProblems(parsed: ConfigDocument, services: ReadonlyMap<string, ServiceSpec>, document: unknown): string[] {
  const problems: string[] = [];
  const problem = (path: PathPart[], message: string) => problems.push(problemLine(path, message, valueAt(document, path)));
  const stickyOwner = new Map<string, string>();
  for (const [name, spec] of Object.entries(parsed.services)) {
    const { balance, hashOn, sticky } = services.get(name)!.settings;
    const at = (key: string): PathPart[] => ['services', name, key];
    if (balance === 'consistent-hash') {
      if (!hashOn) problem(at('hashOn'), `consistent-hash needs a key (or --hash-on): ${HASH_ON_MESSAGE}`);
      if (spec.slowStart) problem(at('slowStart'), SLOW_START_NOT_WITH_HASHING);
    } else {
      if (spec.hashOn) problem(at('hashOn'), `a key for consistent-hash, but balance is ${balance}`);
      if (spec.boundedLoad !== undefined) problem(at('boundedLoad'), `a bound of consistent-hash, but balance is ${balance}`);
    }
    if (!sticky) continue;
    if (sticky.sameSite === 'None' && !sticky.secure) problem([...at('sticky'), 'sameSite'], 'SameSite=None needs secure: true (browsers drop the cookie otherwise)');
    // A client reaching both services would be moved back and forth: each answer would set the cookie to its own backend.
    const owner = stickyOwner.get(sticky.cookie);
    if (owner === undefined) stickyOwner.set(sticky.cookie, name);
    else problem([...at('sticky'), 'cookie'], `already the sticky cookie of service ${owner}: give each service its own`);
  }
  return problems;
}

/**
 * A service's settings: what it says, else the flags' (`defaults`). The one place that decides which
 * balancing settings apply with which strategy, for a file's services and the flags' one alike.
 */
function settingsOf(spec: Omit<ServiceDocument, 'backends'>, defaults: ServiceSettings): ServiceSettings {
  const balance = spec.balance ?? defaults.balance;
  const hashing = balance === 'consistent-hash';
  return Object.freeze({
    balance,
    hashOn: hashing ? (spec.hashOn ?? defaults.hashOn) : undefined,
    boundedLoad: hashing ? spec.boundedLoad : undefined,
    sticky: spec.sticky ? Object.freeze({ ...spec.sticky }) : undefined,
    slowStartMs: hashing ? 0 : (spec.slowStart ?? defaults.slowStartMs),
    retries: spec.retries ?? defaults.retries,
    writeTimeoutMs: spec.writeTimeout ?? defaults.writeTimeoutMs,
    tryTimeoutMs: spec.tryTimeout ?? defaults.tryTimeoutMs,
    maxInflightPerBackend: spec.maxInflightPerBackend ?? defaults.maxInflightPerBackend,
    maxSocketsPerBackend: spec.maxSocketsPerBackend ?? defaults.maxSocketsPerBackend,
    breaker: Object.freeze({
      failures: spec.breaker?.failures ?? defaults.breaker.failures,
      cooldownMs: spec.breaker?.cooldown ?? defaults.breaker.cooldownMs,
      statuses: spec.breaker?.statuses ? new Set(spec.breaker.statuses) : defaults.breaker.statuses,
    }),
    healthCheck: Object.freeze({
      intervalMs: spec.healthCheck?.interval ?? defaults.healthCheck.intervalMs,
      path: spec.healthCheck?.path ?? defaults.healthCheck.path,
      timeoutMs: spec.healthCheck?.timeout ?? defaults.healthCheck.timeoutMs,
      fall: spec.healthCheck?.fall ?? defaults.healthCheck.fall,
      rise: spec.healthCheck?.rise ?? defaults.healthCheck.rise,
    }),
    resolve: spec.resolve ?? defaults.resolve,
    dnsRefreshMs: spec.dnsRefresh ?? defaults.dnsRefreshMs,
  });
}

/** Every per-service setting as the flags give it: the defaults settingsOf fills a service's gaps from. */
function settingsFromFlags(flags: GatewayConfig): ServiceSettings {
  return Object.freeze({
    balance: flags.balance,
    hashOn: flags.hashOn,
    boundedLoad: undefined,
    // Not a default: --sticky-cookie is the flags' one service's own (see routingFromFlags).
    sticky: undefined,
    slowStartMs: flags.slowStartMs,
    retries: flags.retries,
    writeTimeoutMs: flags.writeTimeoutMs,
    tryTimeoutMs: flags.tryTimeoutMs,
    maxInflightPerBackend: flags.maxInflightPerBackend,
    maxSocketsPerBackend: flags.maxSocketsPerBackend,
    breaker: Object.freeze({ failures: flags.breakerFailures, cooldownMs: flags.breakerCooldownMs, statuses: flags.breakerStatuses }),
    healthCheck: Object.freeze({
      intervalMs: flags.healthCheckIntervalMs,
      path: flags.healthCheckPath,
      timeoutMs: flags.healthCheckTimeoutMs,
      fall: flags.healthCheckFall,
      rise: flags.healthCheckRise,
    }),
    resolve: flags.resolveBackends,
    dnsRefreshMs: flags.dnsRefreshMs,
  });
}

/** `--sticky-cookie`: the name alone, the other attributes their defaults. */
function stickyOf(cookie: string): NonNullable<ServiceSettings['sticky']> {
  return Object.freeze({ cookie, secure: false, httpOnly: true, sameSite: 'Lax' });
}

function routeOf(route: RouteDocument, index: number): RouteSpec {
  const { match } = route;
  return Object.freeze({
    host: match?.host,
    pathPrefix: match?.pathPrefix ?? '/',
    methods: match?.methods ? new Set(match.methods) : undefined,
    headers: Object.freeze(Object.entries(match?.headers ?? {}).map(([name, value]): HeaderMatch => Object.freeze({ name: name.toLowerCase(), value }))),
    service: route.service,
    stripPrefix: route.stripPrefix,
    rateLimitPerSecond: route.rateLimit,
    index,
  });
}

/**
 * The routing the flags alone describe (no config file): one service, `default`, with --backends
 * (weight 1) and the flags' settings, and one catch-all route to it.
 */
export function routingFromFlags(flags: GatewayConfig): RoutingConfig {
  // The sticky cookie in the document: the flag is not a default of a file's services, and the admin API edits this document.
  const sticky = flags.stickyCookie === undefined ? {} : { sticky: { cookie: flags.stickyCookie } };
  const document = { services: { [DEFAULT_SERVICE]: { backends: [...flags.backends], ...sticky } }, routes: [{ service: DEFAULT_SERVICE }] };
  const backendSpecs = Object.freeze(flags.backends.map((url) => Object.freeze({ url, weight: 1, drained: false })));
  const settings = settingsOf({ sticky: flags.stickyCookie === undefined ? undefined : stickyOf(flags.stickyCookie) }, settingsFromFlags(flags));
  const service: ServiceSpec = Object.freeze({ name: DEFAULT_SERVICE, backends: backendSpecs, settings });
  const catchAll: RouteSpec = Object.freeze({
    host: undefined,
    pathPrefix: '/',
    methods: undefined,
    headers: Object.freeze([]),
    service: DEFAULT_SERVICE,
    stripPrefix: false,
    rateLimitPerSecond: undefined,
    index: 0,
  });
  return Object.freeze({ services: new Map([[DEFAULT_SERVICE, service]]), routes: Object.freeze([catchAll]), hash: configHash(document), document });
}

// ---------------------------------------------------------------------------------------------
// Hash and JSON Schema.

/**
 * Short hash (16 hex digits of a sha256) of a document, the same whatever the order of its keys:
 * tells routing versions apart on /status and /metrics.
 */
export function configHash(document: unknown): string {
  return createHash('sha256').update(canonicalJson(document), 'utf8').digest('hex').slice(0, 16);
}

/** JSON with every object's keys sorted, so key order does not change the hash. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (isRecord(value)) {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The JSON Schema of the file (what may be written, defaults included) for editors; the committed
 * `gateway.schema.json` is this, and a spec keeps the two equal. Draft-07, which editors know best.
 */
export function configJsonSchema(): object {
  return z.toJSONSchema(configDocumentSchema, { io: 'input', target: 'draft-07', override: wholeNumbersAsIntegers });
}

/** {@link wholeNumber}'s `multipleOf: 1` said the way editors show best. */
function wholeNumbersAsIntegers({ jsonSchema }: { jsonSchema: { type?: unknown; multipleOf?: unknown } }): void {
  if (jsonSchema.type !== 'number' || jsonSchema.multipleOf !== 1) return;
  jsonSchema.type = 'integer';
  delete jsonSchema.multipleOf;
}
