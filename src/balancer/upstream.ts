import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { StateOrigin, UpstreamBreaker } from '../breaker/upstream-breaker.js';
import { InflightCap } from './inflight-cap.js';
import type { UpstreamTlsOptions } from './upstream-tls.js';

/**
 * The path on a backend for a gateway path: `/api/` + `/users?x` -> `/api/users?x`, the backend's
 * prefix joined as http-proxy-middleware joins it (and Go's reverse proxy: `/api/` + `/` -> `/api/`).
 */
export function upstreamPath(prefix: string, url: string): string {
  if (prefix === '/') return url;
  return url.startsWith('/') ? prefix + url.slice(1) : prefix + url;
}

/** The TLS options of a connection to one https:// backend. */
export interface UpstreamTlsConnect {
  readonly secureContext: UpstreamTlsOptions['secureContext'];
  readonly rejectUnauthorized: boolean;
  /** SNI: the backend URL's host name ('' for an IP address, which sends none). */
  readonly servername: string;
}

function tlsConnectOptions(target: URL, tls: UpstreamTlsOptions | undefined, serverName: string | undefined): UpstreamTlsConnect | undefined {
  if (tls === undefined || target.protocol !== 'https:') return undefined;
  // SNI from the backend URL's host (or the name it was resolved from): Node's agent would take it from the Host header, the client's.
  const servername = serverName ?? (isIP(target.hostname.replace(/^\[|\]$/g, '')) === 0 ? target.hostname : '');
  return { secureContext: tls.secureContext, rejectUnauthorized: tls.rejectUnauthorized, servername };
}

/** One backend the gateway proxies to, with its own keep-alive connection pool. */
export class Upstream {
  /** The base URL as configured, e.g. `http://localhost:8080`: the backend's name in metrics and logs. */
  readonly url: string;
  /** Parsed once, because the proxy would otherwise parse the string on every request. */
  readonly target: URL;
  /** Keep-alive pool for this backend alone, so one slow backend cannot starve another's sockets. */
  readonly agent: http.Agent;
  /** How every connection to an https:// backend is made (the agent's, undici's, a WebSocket tunnel's); undefined for http://. */
  readonly tlsConnect: UpstreamTlsConnect | undefined;
  /**
   * The active health checks' verdict (ActiveHealthChecker is its only writer). Starts true, as
   * HAProxy's servers start UP, so traffic flows before the first checks have answered; it stays
   * true when checks are off (--health-check-interval=0).
   */
  healthy = true;
  /** Whether `healthy` was last decided by this instance's checks or by another instance's (in a cluster). */
  healthOrigin: StateOrigin = 'local';

  /** The service it belongs to (a backend belongs to one): the `service` label of its metrics. */
  service = 'default';
  /** Its share of the service's traffic relative to the others (the config file's `weight`). */
  weight = 1;
  /** Slow start: when its ramp to full weight began (performance.now()); see strategies/weights.ts. */
  rampStartedAt = 0;
  /** Slow start: how long its ramp lasts; `0` once it is at full weight (or never ramped). */
  rampMs = 0;
  /**
   * Names it in a sticky cookie: the same on every gateway, worker and restart (a hash of its URL,
   * as Traefik derives its cookie values), and tells a client nothing of its address.
   */
  readonly affinityId: string;
  /**
   * Set when it has left the configuration: it takes no new requests, those in flight finish, then
   * its connections are closed (see UpstreamPool).
   */
  retired = false;
  /** Configured, but out of rotation until made active again (the admin API, or `drained: true` in the file). */
  drained = false;
  /** When a retired backend is closed even with requests still in flight (performance.now()). */
  drainDeadline = 0;
  /** Tries at it now (UpstreamTries counts them): a retired backend is closed once none is left. */
  inFlight = 0;

  /** Most connections open to it at once (--max-sockets-per-backend, or its service's). */
  readonly maxSockets: number;

  /** --max-inflight-per-backend, when set: a full backend is not available. */
  readonly cap: InflightCap | undefined;

  constructor(
    url: string,
    /** This backend's circuit breaker: every attempt at it reports its outcome there. */
    readonly breaker: UpstreamBreaker,
    maxSockets = 256,
    maxInflight = 0,
    /** The trust and certificate for https:// backends (see tlsConnect). */
    tls?: UpstreamTlsOptions,
    /** For an https:// backend whose URL holds an address its name resolved to: that name, for SNI and the certificate check. */
    serverName?: string,
  ) {
    this.cap = maxInflight > 0 ? new InflightCap(maxInflight) : undefined;
    this.maxSockets = maxSockets;
    this.url = url;
    this.affinityId = createHash('sha256').update(url).digest('hex').slice(0, 16);
    this.target = new URL(url);
    // A trailing slash makes the prefix join as Go's reverse proxy does: `/api` + `/` -> `/api/`.
    if (!this.target.pathname.endsWith('/')) this.target.pathname += '/';
    const Agent = this.target.protocol === 'https:' ? https.Agent : http.Agent;
    // LIFO reuses the most recently used socket, so idle ones age out instead of going stale; as
    // many idle sockets are kept as may be open, so a burst does not reconnect what it just closed.
    this.tlsConnect = tlsConnectOptions(this.target, tls, serverName);
    this.agent = new Agent({ keepAlive: true, scheduling: 'lifo', maxSockets, maxFreeSockets: maxSockets, ...this.tlsConnect });
  }

  /** This backend's path for a gateway path (its prefix first). */
  pathFor(url: string): string {
    return upstreamPath(this.target.pathname, url);
  }

  /** The one answer to "can this upstream take traffic?"; every signal about a backend composes here. */
  isAvailable(): boolean {
    // Plain reads first: the breaker's answer takes a clock read when it is open.
    return this.healthy && this.hasRoom && this.breaker.canTakeTraffic;
  }

  /** Under --max-inflight-per-backend (always, without a cap): the one signal panic routing obeys. */
  get hasRoom(): boolean {
    return this.cap?.hasRoom ?? true;
  }

  /** Closes pooled connections; called when the gateway stops. */
  close(): void {
    this.agent.destroy();
  }
}
