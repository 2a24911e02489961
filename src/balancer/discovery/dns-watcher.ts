import { type DnsLookup, normaliseAddresses } from './dns-lookup.js';

export interface DnsWatcherOptions {
  /** The backend's host name, as in its URL (`users.internal`). */
  readonly hostname: string;
  /** Time between the end of one lookup and the start of the next (--dns-refresh; 5 s by default in the caller). */
  readonly refreshMs: number;
  readonly lookup: DnsLookup;
  /** The new set of addresses, in canonical order (see normaliseAddresses), each time it differs from the last one. */
  readonly onAddresses: (addresses: readonly string[]) => void;
  /** A re-lookup failed or found no address; `kept` is the last good set, still in use. */
  readonly onError: (error: Error, kept: readonly string[]) => void;
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * Keeps a backend's host name resolved, like NGINX Plus's `server ... resolve` and Envoy's
 * STRICT_DNS clusters: one lookup at start, then one every `refreshMs` for as long as it runs.
 * Only a change of the set of addresses is reported (DNS servers rotating the order of an answer
 * is not one). A failed lookup, or one with no address, changes nothing: the last good set stays
 * in use and the error goes to `onError`, so a DNS outage never empties a service.
 *
 * Never two lookups at once: the next one is scheduled when the previous one has settled, so a
 * lookup slower than `refreshMs` only delays the next. The timer is unref'd (it alone does not
 * keep the process alive) and `stop()` clears it.
 */
export class DnsWatcher {
  private addresses: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: DnsWatcherOptions) {
    if (!Number.isFinite(options.refreshMs) || options.refreshMs <= 0) {
      throw new RangeError(`DNS refresh interval must be a positive number of milliseconds, got ${options.refreshMs}`);
    }
  }

  /** The last good set of addresses, in canonical order; empty until `start()` has resolved. */
  get current(): readonly string[] {
    return this.addresses;
  }

  /**
   * Does the first lookup and, once it has answered, starts the refreshes. Resolves to the first
   * set of addresses (not reported to `onAddresses`: it is this promise's value); rejects, starting
   * nothing, when that lookup fails or finds no address, so the caller decides whether a backend
   * that does not resolve at start is fatal. A watcher is started once; `stop()` during this first
   * lookup leaves it stopped, and the promise settles as the lookup did.
   */
  async start(): Promise<readonly string[]> {
    if (this.started || this.stopped) throw new Error(`DNS watcher of ${this.options.hostname} already ${this.stopped ? 'stopped' : 'started'}`);
    this.started = true;
    const addresses = await this.lookUp();
    if (this.stopped) return addresses;
    this.addresses = addresses;
    this.schedule();
    return addresses;
  }

  /** Stops the refreshes; the result of a lookup still in flight is ignored. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One lookup, normalised; no address at all counts as a failure. */
  private async lookUp(): Promise<readonly string[]> {
    const addresses = normaliseAddresses(await this.options.lookup(this.options.hostname));
    if (addresses.length === 0) throw new Error(`DNS lookup of ${this.options.hostname}: no addresses`);
    return addresses;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh().finally(() => this.schedule());
    }, this.options.refreshMs);
    this.timer.unref();
  }

  /** Never rejects: the chain of timers must survive a failing lookup and a throwing callback alike. */
  private async refresh(): Promise<void> {
    let addresses: readonly string[];
    try {
      addresses = await this.lookUp();
    } catch (error) {
      if (!this.stopped) this.report(asError(error));
      return;
    }
    if (this.stopped || sameAddresses(addresses, this.addresses)) return;
    this.addresses = addresses;
    try {
      this.options.onAddresses(addresses);
    } catch (error) {
      this.report(asError(error));
    }
  }

  private report(error: Error): void {
    try {
      this.options.onError(error, this.addresses);
    } catch {
      // The error callback failing must not end the refreshes; there is nobody left to tell.
    }
  }
}

function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((address, i) => address === b[i]);
}
