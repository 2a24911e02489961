/**
 * The few primitives that cluster-wide state is built on (breaker announcements, the probe lease,
 * the health-check lease), so one coordinator works over Redis (several instances, --redis-url) or
 * over the primary process (--workers without Redis). Keys and channels are given without the
 * cluster's prefix; each implementation applies it. Every call either answers within the store's
 * own deadline or rejects: callers act locally when it does (fail open), never wait longer.
 */
export interface SharedStore {
  /** Whether the store answered its last call or connection check; callers act locally while it is false. */
  readonly available: boolean;
  /** SET key value PX ttlMs [NX]: true when the value was written (with `onlyIfAbsent`, false when the key exists). */
  put(key: string, value: string, ttlMs: number, onlyIfAbsent?: boolean): Promise<boolean>;
  /** The value and its remaining time to live, or undefined when the key does not exist (or has expired). */
  read(key: string): Promise<StoredValue | undefined>;
  /** Deletes the key, if it is still `value` (so an instance never removes another's lease or opening). */
  removeIf(key: string, value: string): Promise<void>;
  /** Sends to every other member of the cluster subscribed to `channel` (and, harmlessly, to this one). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Hears every message on `channel`, from any member, for as long as the gateway runs (through
   * outages: the subscription is renewed). Resolves once the store has confirmed it; never rejects.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
}

export interface StoredValue {
  readonly value: string;
  readonly ttlMs: number;
}

/** The shared store's DI token; provided as `null` when the gateway is alone (no --redis-url, one worker). */
export const SHARED_STORE = Symbol('SharedStore');
