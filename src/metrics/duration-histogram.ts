/** Upper bounds of the duration histograms, in seconds: 1 ms to 10 s. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * Durations counted into fixed buckets with plain arithmetic, once per proxied request.
 * prom-client's own `observe()` rebuilds a label-hash string, allocates and validates labels on
 * every call, cached child or not (~150–240 ns measured, against ~20 ns here); this is read and
 * published by ScrapeTimeHistogram only when Prometheus scrapes.
 */
export class DurationHistogram {
  /** Observations per bucket, not cumulative; the last slot counts those above the largest bound. */
  readonly bucketCounts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly upperBounds: readonly number[] = DURATION_BUCKETS_SECONDS) {
    this.bucketCounts = new Float64Array(upperBounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.upperBounds;
    // A linear scan: most requests land in the first few buckets, ahead of any binary search.
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]) bucket++;
    this.bucketCounts[bucket]++;
    this.sum += seconds;
    this.count++;
  }
}
