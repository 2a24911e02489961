import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS_SECONDS, DurationHistogram } from './duration-histogram.js';

describe(DurationHistogram.name, () => {
  it('runs its buckets from 1 ms to 10 s', () => {
    expect(DURATION_BUCKETS_SECONDS).toEqual([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(new DurationHistogram().upperBounds).toBe(DURATION_BUCKETS_SECONDS);
  });

  it('counts a value equal to a bound in that bound’s bucket, as `le` means', () => {
    const histogram = new DurationHistogram([0.001, 0.01]);
    histogram.observe(0.001);
    histogram.observe(0.01);
    expect([...histogram.bucketCounts]).toEqual([1, 1, 0]);
  });

  it('counts a value just above a bound in the next bucket, and one past the largest above all', () => {
    const histogram = new DurationHistogram([0.001, 0.01]);
    histogram.observe(0.0010001);
    histogram.observe(11);
    histogram.observe(0);
    expect([...histogram.bucketCounts]).toEqual([1, 1, 1]);
  });

  it('keeps the sum and the count of what it observed', () => {
    const histogram = new DurationHistogram();
    histogram.observe(0.25);
    histogram.observe(0.5);
    expect(histogram.sum).toBe(0.75);
    expect(histogram.count).toBe(2);
  });
});
