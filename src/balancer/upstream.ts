import http from 'node:http';
import https from 'node:https';
import type { UpstreamBreaker } from '../breaker/upstream-breaker.js';

/** One backend the gateway proxies to, with its own keep-alive connection pool. */
export class Upstream {
  /** The base URL as configured, e.g. `http://localhost:8080`: the backend's name in metrics and logs. */
  readonly url: string;
  /** Parsed once, because the proxy would otherwise parse the string on every request. */
  readonly target: URL;
  /** Keep-alive pool for this backend alone, so one slow backend cannot starve another's sockets. */
  readonly agent: http.Agent;

  constructor(
    url: string,
    /** This backend's circuit breaker: every attempt at it reports its outcome there. */
    readonly breaker: UpstreamBreaker,
    maxSockets = 256,
  ) {
    this.url = url;
    this.target = new URL(url);
    // A trailing slash makes the prefix join as Go's reverse proxy does: `/api` + `/` -> `/api/`.
    if (!this.target.pathname.endsWith('/')) this.target.pathname += '/';
    const Agent = this.target.protocol === 'https:' ? https.Agent : http.Agent;
    // LIFO reuses the most recently used socket, so idle ones age out instead of going stale; as
    // many idle sockets are kept as may be open, so a burst does not reconnect what it just closed.
    this.agent = new Agent({ keepAlive: true, scheduling: 'lifo', maxSockets, maxFreeSockets: maxSockets });
  }

  /** The one answer to "can this upstream take traffic?"; every signal about a backend composes here. */
  isAvailable(): boolean {
    return this.breaker.canTakeTraffic;
  }

  /** Closes pooled connections; called when the gateway stops. */
  close(): void {
    this.agent.destroy();
  }
}
