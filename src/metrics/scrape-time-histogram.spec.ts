import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DurationHistogram } from './duration-histogram.js';
import { ScrapeTimeHistogram } from './scrape-time-histogram.js';

function filled(...seconds: number[]): DurationHistogram {
  const histogram = new DurationHistogram([0.1, 1]);
  for (const value of seconds) histogram.observe(value);
  return histogram;
}

describe(ScrapeTimeHistogram.name, () => {
  it('renders each series as cumulative buckets, +Inf, sum and count, read when scraped', async () => {
    const registry = new Registry();
    const a = filled(0.05, 0.5);
    const b = new DurationHistogram([0.1, 1]);
    new ScrapeTimeHistogram({ name: 'test_seconds', help: 'A test.', labelNames: ['backend'], registers: [registry] }, [0.1, 1], () => [
      { labels: { backend: 'a' }, histogram: a },
      { labels: { backend: 'b' }, histogram: b },
    ]);
    a.observe(2);
    b.observe(0.01);
    expect(await registry.metrics()).toBe(
      [
        '# HELP test_seconds A test.',
        '# TYPE test_seconds histogram',
        'test_seconds_bucket{le="0.1",backend="a"} 1',
        'test_seconds_bucket{le="1",backend="a"} 2',
        'test_seconds_bucket{le="+Inf",backend="a"} 3',
        'test_seconds_sum{backend="a"} 2.55',
        'test_seconds_count{backend="a"} 3',
        'test_seconds_bucket{le="0.1",backend="b"} 1',
        'test_seconds_bucket{le="1",backend="b"} 1',
        'test_seconds_bucket{le="+Inf",backend="b"} 1',
        'test_seconds_sum{backend="b"} 0.01',
        'test_seconds_count{backend="b"} 1',
        '',
      ].join('\n'),
    );
  });

  it('gives the same samples through prom-client’s JSON reading, labels merged', async () => {
    const registry = new Registry();
    new ScrapeTimeHistogram({ name: 'test_seconds', help: 'A test.', registers: [registry] }, [0.1, 1], () => [{ labels: {}, histogram: filled(0.5) }]);
    const [metric] = await registry.getMetricsAsJSON();
    expect(metric).toMatchObject({ name: 'test_seconds', type: 'histogram' });
    expect(metric?.values).toEqual([
      { metricName: 'test_seconds_bucket', labels: { le: '0.1' }, value: 0 },
      { metricName: 'test_seconds_bucket', labels: { le: '1' }, value: 1 },
      { metricName: 'test_seconds_bucket', labels: { le: '+Inf' }, value: 1 },
      { metricName: 'test_seconds_sum', labels: {}, value: 0.5 },
      { metricName: 'test_seconds_count', labels: {}, value: 1 },
    ]);
  });

  it('lets prom-client refuse what it refuses in any histogram: a label named le', () => {
    expect(
      () => new ScrapeTimeHistogram({ name: 'test_seconds', help: 'A test.', labelNames: ['le'], registers: [new Registry()] }, [1], () => []),
    ).toThrow(/le/);
  });
});
