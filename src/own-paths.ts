/**
 * The gateway's own endpoints, matched exactly (a query string aside). A leaf: the edge dispatcher
 * and the controllers both import it, so neither depends on the other.
 */
export const OWN_PATHS = {
  /** Liveness, in the Go proxy's shape. */
  health: '/health',
  /** Readiness, in Terminus's shape. */
  ready: '/health/ready',
  /** Counters: JSON, or Prometheus's text format by content negotiation. */
  metrics: '/metrics',
  /** The status page, and its JSON with ?format=json. */
  status: '/status',
} as const;

/** The methods the own endpoints answer; any other gets 405 with `Allow` saying these. */
export const OWN_PATH_METHODS: readonly string[] = ['GET', 'HEAD'];

const PATHS: ReadonlySet<string> = new Set(Object.values(OWN_PATHS));
/** Every own path starts with one of these: most proxied URLs are ruled out without a lookup. */
const PREFIXES = [...new Set([...PATHS].map((path) => path.slice(0, 3)))];

/** Whether a request target names one of the gateway's own endpoints. */
export function isOwnPath(url: string): boolean {
  if (!PREFIXES.some((prefix) => url.startsWith(prefix))) return false;
  const query = url.indexOf('?');
  return PATHS.has(query === -1 ? url : url.slice(0, query));
}
