import type { CompletedRequest } from './metrics.service.js';

/** The window every reading covers: the last minute, in one-second buckets. */
export const WINDOW_SECONDS = 60;

/**
 * Latency buckets grow by 2^(1/4) (about 19 %) from 0.1 ms, so any reading is within one bucket's
 * width of the truth, from sub-millisecond local backends up to the last finite bound, ~88 s.
 * Bucket 0 holds [0, 0.1 ms]; bucket i holds (0.1·2^((i-1)/4), 0.1·2^(i/4)] ms; the last one holds
 * everything slower.
 */
const SMALLEST_BOUND_MS = 0.1;
const BUCKETS_PER_DOUBLING = 4;
export const LATENCY_BUCKETS = 81;
const LAST_BUCKET = LATENCY_BUCKETS - 1;

/** Upper bound of a latency bucket in ms (Infinity for the last). */
function upperBoundMs(bucket: number): number {
  return bucket === LAST_BUCKET ? Infinity : SMALLEST_BOUND_MS * 2 ** (bucket / BUCKETS_PER_DOUBLING);
}

/** Lower bound of a latency bucket in ms. */
function lowerBoundMs(bucket: number): number {
  return bucket === 0 ? 0 : upperBoundMs(bucket - 1);
}

/** The bucket a duration falls in: one log2, no search. */
export function latencyBucket(durationMs: number): number {
  // `!(x > min)` also catches NaN, which must not index outside the array.
  if (!(durationMs > SMALLEST_BOUND_MS)) return 0;
  const bucket = Math.ceil(Math.log2(durationMs / SMALLEST_BOUND_MS) * BUCKETS_PER_DOUBLING);
  return bucket > LAST_BUCKET ? LAST_BUCKET : bucket;
}

/** Latency percentiles in ms; null when the window holds no request. */
export interface LatencyPercentiles {
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
}

/** What one window reads over the last minute. */
export interface RecentSummary {
  readonly requestsPerSecond: number;
  /** Requests answered with a status of 500 or more, per second. */
  readonly errorsPerSecond: number;
  /** Errors over requests, 0..1; 0 when there were no requests. */
  readonly errorRatio: number;
  readonly latencyMs: LatencyPercentiles;
}

/** The part of a finished request that the window needs. */
export type RecentRequest = Pick<CompletedRequest, 'status' | 'durationMs'>;

/**
 * One backend's (or the whole gateway's) last minute: a ring of 60 one-second buckets, each with
 * a request count, an error count and a latency histogram. All of it lives in typed arrays sized
 * at construction, so recording allocates nothing and memory never grows. A bucket is cleared
 * when its slot is reused for a new second, and a reading skips buckets older than the window:
 * no timer is needed for either.
 */
export class RecentWindow {
  /** The second (since the epoch of the clock) each slot holds; -1 for a slot never used. */
  private readonly secondOfSlot = new Float64Array(WINDOW_SECONDS).fill(-1);
  private readonly requests = new Uint32Array(WINDOW_SECONDS);
  private readonly errors = new Uint32Array(WINDOW_SECONDS);
  /** Slot-major: slot s's histogram is [s·LATENCY_BUCKETS, (s+1)·LATENCY_BUCKETS). */
  private readonly latency = new Uint32Array(WINDOW_SECONDS * LATENCY_BUCKETS);
  /** The window's histograms summed, reused by every reading. */
  private readonly merged = new Uint32Array(LATENCY_BUCKETS);

  /** Bytes held, for the check that memory stays fixed however much traffic is recorded. */
  get byteLength(): number {
    return this.secondOfSlot.byteLength + this.requests.byteLength + this.errors.byteLength + this.latency.byteLength + this.merged.byteLength;
  }

  record(second: number, status: number, durationMs: number): void {
    const slot = second % WINDOW_SECONDS;
    // Also taken when the clock stepped back: the slot then belongs to the clock's new idea of now.
    if (this.secondOfSlot[slot] !== second) this.reuse(slot, second);
    this.requests[slot]++;
    if (status >= 500) this.errors[slot]++;
    this.latency[slot * LATENCY_BUCKETS + latencyBucket(durationMs)]++;
  }

  /**
   * The window ending in `second` (inclusive), with rates over `spanSeconds` (the whole window,
   * or less while the stats are younger than a minute, so a fresh gateway does not under-report).
   */
  summarize(second: number, spanSeconds: number): RecentSummary {
    let requests = 0;
    let errors = 0;
    this.merged.fill(0);
    for (let slot = 0; slot < WINDOW_SECONDS; slot++) {
      if (!this.holdsRecent(slot, second)) continue;
      requests += this.requests[slot];
      errors += this.errors[slot];
      const start = slot * LATENCY_BUCKETS;
      for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket++) this.merged[bucket] += this.latency[start + bucket];
    }
    return {
      requestsPerSecond: requests / spanSeconds,
      errorsPerSecond: errors / spanSeconds,
      errorRatio: requests === 0 ? 0 : errors / requests,
      latencyMs: {
        p50: this.percentileOfMerged(0.5, requests),
        p90: this.percentileOfMerged(0.9, requests),
        p99: this.percentileOfMerged(0.99, requests),
      },
    };
  }

  private holdsRecent(slot: number, second: number): boolean {
    const held = this.secondOfSlot[slot];
    return held <= second && held > second - WINDOW_SECONDS;
  }

  private reuse(slot: number, second: number): void {
    this.secondOfSlot[slot] = second;
    this.requests[slot] = 0;
    this.errors[slot] = 0;
    this.latency.fill(0, slot * LATENCY_BUCKETS, (slot + 1) * LATENCY_BUCKETS);
  }

  /** Interpolates linearly inside the bucket that holds the rank, as Prometheus's histogram_quantile does. */
  private percentileOfMerged(quantile: number, count: number): number | null {
    if (count === 0) return null;
    // The nearest-rank definition: the smallest value with at least `quantile` of the requests at or below it.
    const rank = Math.max(1, Math.ceil(quantile * count));
    let below = 0;
    for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket++) {
      const inBucket = this.merged[bucket];
      if (below + inBucket >= rank) {
        const lower = lowerBoundMs(bucket);
        // The open-ended last bucket has no width to interpolate over: its lower bound is what is known.
        if (bucket === LAST_BUCKET) return lower;
        return lower + (upperBoundMs(bucket) - lower) * ((rank - below) / inBucket);
      }
      below += inBucket;
    }
    return null; // unreachable while count matches the histogram
  }
}

/** Read for a backend that has never been recorded; nothing ever records into it. */
const EMPTY_WINDOW = new RecentWindow();

export interface RecentStatsOptions {
  /** Milliseconds since an epoch; a test passes a fake one. */
  readonly now?: () => number;
  /**
   * Most backends given a window of their own. Backends are configured, so this is never reached
   * in practice; it keeps memory bounded should a caller ever pass unbounded names.
   */
  readonly maxBackends?: number;
}

/**
 * Request and error rates and latency percentiles over the last minute: per backend, of the tries
 * it got; for the whole gateway, of the requests as clients saw them. Cheap enough to record every
 * proxied request: a window update per try and one per request, no allocation once a backend's
 * window exists.
 */
export class RecentStats {
  private readonly now: () => number;
  private readonly maxBackends: number;
  private readonly startSecond: number;
  private readonly windows = new Map<string, RecentWindow>();
  private readonly gateway = new RecentWindow();

  constructor(options: RecentStatsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxBackends = options.maxBackends ?? 1024;
    this.startSecond = this.currentSecond();
  }

  /** Counts one finished request, as its client saw it, in the gateway's total. */
  recordRequest(request: RecentRequest): void {
    this.gateway.record(this.currentSecond(), request.status, request.durationMs);
  }

  /**
   * Counts one try at a backend: a request retried elsewhere counts at every backend it tried, so a
   * failing backend shows its failures even when the client never saw them.
   * @param status the backend's answer; 5xx (502 for no answer at all) when the try failed.
   */
  recordTry(backend: string, status: number, durationMs: number): void {
    this.windowOf(backend)?.record(this.currentSecond(), status, durationMs);
  }

  /** One backend's last minute of tries; all zero for a backend that has had none. */
  backend(url: string): RecentSummary {
    const second = this.currentSecond();
    return (this.windows.get(url) ?? EMPTY_WINDOW).summarize(second, this.spanSeconds(second));
  }

  /** Every proxied request's last minute, including those no backend was picked for. */
  total(): RecentSummary {
    const second = this.currentSecond();
    return this.gateway.summarize(second, this.spanSeconds(second));
  }

  /** Bytes held by every window: fixed per backend, whatever the traffic. */
  get byteLength(): number {
    let bytes = this.gateway.byteLength;
    for (const window of this.windows.values()) bytes += window.byteLength;
    return bytes;
  }

  private windowOf(backend: string): RecentWindow | undefined {
    let window = this.windows.get(backend);
    if (window === undefined && this.windows.size < this.maxBackends) {
      window = new RecentWindow();
      this.windows.set(backend, window);
    }
    return window;
  }

  private currentSecond(): number {
    return Math.floor(this.now() / 1000);
  }

  private spanSeconds(second: number): number {
    return Math.min(WINDOW_SECONDS, Math.max(1, second - this.startSecond + 1));
  }
}
