import { beforeEach, describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, latencyBucket, RecentStats, RecentWindow, WINDOW_SECONDS } from './recent-stats.js';

const BACKEND = 'http://127.0.0.1:8080';
const OTHER = 'http://127.0.0.1:8081';

/** A bucket is 2^(1/4) wide, so an interpolated percentile is within ~19 % of the true value. */
const BUCKET_WIDTH = 2 ** (1 / 4) - 1;

function expectWithinOneBucket(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(BUCKET_WIDTH);
}

describe(RecentStats.name, () => {
  let nowMs: number;
  let stats: RecentStats;
  const ok = (durationMs = 5) => ({ status: 200, durationMs });
  /** A request answered at its first try: one try at its backend (if any), one request in the total. */
  const record = (backend: string | undefined, request: { status: number; durationMs: number }) => {
    stats.recordRequest(request);
    if (backend !== undefined) stats.recordTry(backend, request.status, request.durationMs);
  };

  beforeEach(() => {
    // Not a multiple of a minute, so slot arithmetic cannot line up by accident.
    nowMs = 1_700_000_012_345;
    stats = new RecentStats({ now: () => nowMs });
  });

  it('counts a failed try at its backend although the request succeeded elsewhere', () => {
    stats.recordTry(BACKEND, 502, 1);
    stats.recordTry(OTHER, 200, 3);
    stats.recordRequest(ok(4));
    expect(stats.backend(BACKEND)).toMatchObject({ requestsPerSecond: 1, errorsPerSecond: 1, errorRatio: 1 });
    expect(stats.backend(OTHER)).toMatchObject({ requestsPerSecond: 1, errorsPerSecond: 0 });
    expect(stats.total()).toMatchObject({ requestsPerSecond: 1, errorsPerSecond: 0 });
  });

  it('reads zero rates and no percentiles before any request', () => {
    expect(stats.backend(BACKEND)).toEqual({ requestsPerSecond: 0, errorsPerSecond: 0, errorRatio: 0, latencyMs: { p50: null, p90: null, p99: null } });
    expect(stats.total()).toEqual(stats.backend(BACKEND));
  });

  it('reads the request rate over the last minute', () => {
    // 10 requests a second for a whole minute.
    for (let second = 0; second < WINDOW_SECONDS; second++) {
      for (let i = 0; i < 10; i++) record(BACKEND, ok());
      nowMs += 1000;
    }
    nowMs -= 1000; // still inside the last recorded second
    expect(stats.backend(BACKEND).requestsPerSecond).toBe(10);
    expect(stats.total().requestsPerSecond).toBe(10);
  });

  it('divides by the seconds since it started while it is younger than a minute', () => {
    for (let second = 0; second < 5; second++) {
      for (let i = 0; i < 4; i++) record(BACKEND, ok());
      nowMs += 1000;
    }
    nowMs -= 1000;
    expect(stats.backend(BACKEND).requestsPerSecond).toBe(4);
  });

  it('counts a status of 500 or more as an error, and nothing below', () => {
    for (const status of [200, 302, 404, 429, 499, 500, 502, 503, 504]) record(BACKEND, { status, durationMs: 1 });
    const summary = stats.backend(BACKEND);
    expect(summary.requestsPerSecond).toBe(9);
    expect(summary.errorsPerSecond).toBe(4);
    expect(summary.errorRatio).toBeCloseTo(4 / 9);
  });

  it('keeps each backend apart, and the gateway total over all of them', () => {
    record(BACKEND, { status: 502, durationMs: 1 });
    record(OTHER, ok());
    record(OTHER, ok());
    // No backend was picked (all breakers open): the gateway counts it, no backend does.
    record(undefined, { status: 503, durationMs: 0.2 });
    expect(stats.backend(BACKEND)).toMatchObject({ requestsPerSecond: 1, errorsPerSecond: 1, errorRatio: 1 });
    expect(stats.backend(OTHER)).toMatchObject({ requestsPerSecond: 2, errorsPerSecond: 0, errorRatio: 0 });
    expect(stats.total()).toMatchObject({ requestsPerSecond: 4, errorsPerSecond: 2, errorRatio: 0.5 });
  });

  it('reads p50, p90 and p99 of the last minute within one bucket of the truth', () => {
    // 1..1000 ms, spread over the minute so every percentile merges many buckets.
    for (let ms = 1; ms <= 1000; ms++) {
      record(BACKEND, ok(ms));
      if (ms % 20 === 0) nowMs += 1000;
    }
    nowMs -= 1000;
    const { p50, p90, p99 } = stats.backend(BACKEND).latencyMs;
    expectWithinOneBucket(p50, 500);
    expectWithinOneBucket(p90, 900);
    expectWithinOneBucket(p99, 990);
    expect(p50!).toBeLessThan(p90!);
    expect(p90!).toBeLessThan(p99!);
  });

  it('reads a tail that only a few requests have: p99 of 99 fast and 1 slow', () => {
    for (let i = 0; i < 98; i++) record(BACKEND, ok(2));
    record(BACKEND, ok(2));
    record(BACKEND, ok(800));
    const { p50, p90, p99 } = stats.backend(BACKEND).latencyMs;
    expectWithinOneBucket(p50, 2);
    expectWithinOneBucket(p90, 2);
    expectWithinOneBucket(p99, 2);
    // One slow request of a hundred is the 100th percentile, not the 99th; two make the 99th slow.
    record(BACKEND, ok(800));
    expectWithinOneBucket(stats.backend(BACKEND).latencyMs.p99, 800);
  });

  it('forgets a request once it is more than a minute old', () => {
    record(BACKEND, { status: 500, durationMs: 3000 });
    nowMs += 59_000;
    record(BACKEND, ok(10));
    expect(stats.backend(BACKEND).requestsPerSecond).toBeCloseTo(2 / 60);
    expect(stats.backend(BACKEND).errorsPerSecond).toBeCloseTo(1 / 60);

    nowMs += 1000; // the first request's second has left the window
    const summary = stats.backend(BACKEND);
    expect(summary.requestsPerSecond).toBeCloseTo(1 / 60);
    expect(summary.errorsPerSecond).toBe(0);
    expectWithinOneBucket(summary.latencyMs.p99, 10);
  });

  it('does not add a new second to what its slot held a minute ago', () => {
    record(BACKEND, { status: 500, durationMs: 3000 });
    nowMs += 60_000; // the same slot of the ring, one turn later
    record(BACKEND, ok(10));
    const summary = stats.backend(BACKEND);
    expect(summary.requestsPerSecond).toBeCloseTo(1 / 60);
    expect(summary.errorRatio).toBe(0);
    expectWithinOneBucket(summary.latencyMs.p99, 10);
  });

  it('reads an idle minute as zero', () => {
    for (let i = 0; i < 1000; i++) record(BACKEND, { status: i % 2 ? 200 : 500, durationMs: 7 });
    nowMs += 60_000;
    expect(stats.backend(BACKEND)).toEqual({ requestsPerSecond: 0, errorsPerSecond: 0, errorRatio: 0, latencyMs: { p50: null, p90: null, p99: null } });
    expect(stats.total().requestsPerSecond).toBe(0);
    // Long idle too: whole turns of the ring go by with no request to clear a slot.
    nowMs += 3_600_000 + 500;
    expect(stats.backend(BACKEND).requestsPerSecond).toBe(0);
  });

  it('holds fixed memory per backend, however much traffic it records', () => {
    record(BACKEND, ok());
    record(OTHER, ok());
    const bytesAtStart = stats.byteLength;
    // Ten minutes at 200 req/s with latencies across every bucket, statuses of every kind.
    for (let second = 0; second < 600; second++) {
      for (let i = 0; i < 200; i++) record(i % 2 ? BACKEND : OTHER, { status: 200 + (i % 4) * 100, durationMs: 2 ** (i % 40) / 100 });
      nowMs += 1000;
    }
    expect(stats.byteLength).toBe(bytesAtStart);
    // Three windows (two backends and the total), each 60 one-second buckets of fixed size.
    expect(bytesAtStart).toBe(3 * new RecentWindow().byteLength);
    expect(new RecentWindow().byteLength).toBeLessThan(64 * 1024);
  });

  it('stops giving new backends a window past its limit, still counting them in the total', () => {
    const limited = new RecentStats({ now: () => nowMs, maxBackends: 1 });
    for (const backend of [BACKEND, OTHER]) {
      limited.recordRequest(ok());
      limited.recordTry(backend, 200, 5);
    }
    expect(limited.backend(BACKEND).requestsPerSecond).toBe(1);
    expect(limited.backend(OTHER).requestsPerSecond).toBe(0);
    expect(limited.total().requestsPerSecond).toBe(2);
    expect(limited.byteLength).toBe(2 * new RecentWindow().byteLength);
  });

  it('uses Date.now when no clock is given', () => {
    const real = new RecentStats();
    real.recordTry(BACKEND, 200, 5);
    expect(real.backend(BACKEND).requestsPerSecond).toBeGreaterThan(0);
  });
});

describe(latencyBucket.name, () => {
  it('puts every duration in a bucket, NaN and the very slow included', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(-1)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucket(0.1)).toBe(0);
    expect(latencyBucket(Number.POSITIVE_INFINITY)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucket(10 * 60_000)).toBe(LATENCY_BUCKETS - 1);
  });

  it('puts a longer duration in the same or a later bucket', () => {
    let previous = 0;
    for (let ms = 0.05; ms < 100_000; ms *= 1.07) {
      const bucket = latencyBucket(ms);
      expect(bucket).toBeGreaterThanOrEqual(previous);
      previous = bucket;
    }
    expect(previous).toBe(LATENCY_BUCKETS - 1);
  });
});
