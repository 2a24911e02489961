import type { StoredValue } from '../shared-store.js';

/** How often expired keys nobody asked about again are dropped. */
const SWEEP_EVERY_MS = 10_000;

interface Entry {
  readonly value: string;
  /** performance.now() past which the key no longer exists. */
  readonly expiresAt: number;
}

/**
 * The primary's side of PrimarySharedStore: the one store of every worker of --workers without
 * Redis. Redis's semantics for the few primitives the seam has: SET PX [NX], a read with the
 * remaining time to live, delete-if-still-this-value, and publish to every worker (the sender
 * included). Time is the primary's monotonic clock, the same for every worker.
 */
export class SharedStoreHost {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  /**
   * @param broadcast delivers a published message to every worker
   * @param nowMs the clock (tests move it)
   */
  constructor(
    private readonly broadcast: (channel: string, message: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  put(key: string, value: string, ttlMs: number, onlyIfAbsent: boolean): boolean {
    if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new RangeError(`a time to live must be a positive number of milliseconds, got ${ttlMs}`);
    if (onlyIfAbsent && this.live(key) !== undefined) return false;
    this.entries.set(key, { value, expiresAt: this.nowMs() + ttlMs });
    return true;
  }

  read(key: string): StoredValue | undefined {
    const entry = this.live(key);
    return entry && { value: entry.value, ttlMs: Math.max(0, Math.ceil(entry.expiresAt - this.nowMs())) };
  }

  removeIf(key: string, value: string): void {
    if (this.live(key)?.value === value) this.entries.delete(key);
  }

  publish(channel: string, message: string): void {
    this.broadcast(channel, message);
  }

  /** Keys alive now. */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** The key's entry if it has not expired; an expired one is dropped on the way. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.nowMs()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
