import { type Aggregator, Histogram, type HistogramConfiguration } from 'prom-client';
import type { DurationHistogram } from './duration-histogram.js';

/** One labelled series of a ScrapeTimeHistogram and the counts behind it. */
export interface HistogramSeries<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly histogram: DurationHistogram;
}

/** One sample line in prom-client's internal exposition shape: its own labels, and the series' in `sharedLabels`. */
interface ExposedSample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What prom-client's Registry reads from a histogram to render it (`Histogram.getForPromString()`). */
export interface ExposedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: Aggregator;
  readonly values: ExposedSample[];
}

/**
 * A prom-client Histogram whose series are read, at scrape time, from DurationHistograms that the
 * request path fills: prom-client has no public way to set a histogram's buckets, and its
 * `observe()` costs too much per request (see DurationHistogram). Name, help, label and bucket
 * validation and registration stay prom-client's; only the samples come from `series()`.
 * Its own `observe()` is not to be used: what it records is never published.
 */
export class ScrapeTimeHistogram<L extends string> extends Histogram<L> {
  readonly #name: string;
  readonly #help: string;
  readonly #aggregator: Aggregator;
  readonly #series: () => Iterable<HistogramSeries<L>>;

  constructor(config: Omit<HistogramConfiguration<L>, 'buckets' | 'collect'>, buckets: readonly number[], series: () => Iterable<HistogramSeries<L>>) {
    super({ ...config, buckets: [...buckets] });
    this.#name = config.name;
    this.#help = config.help;
    this.#aggregator = config.aggregator ?? 'sum';
    this.#series = series;
  }

  /**
   * Replaces Histogram's own: prom-client's Registry renders the text format from this rather than
   * from `get()` when a metric has it, and Histogram's `get()` (JSON) is derived from it too.
   */
  getForPromString(): Promise<ExposedHistogram> {
    const values: ExposedSample[] = [];
    for (const { labels, histogram } of this.#series()) values.push(...exposition(this.#name, labels, histogram));
    return Promise.resolve({ name: this.#name, help: this.#help, type: 'histogram', aggregator: this.#aggregator, values });
  }
}

/** A series' samples as the text format lists them: cumulative `_bucket`s up to `+Inf`, `_sum`, `_count`. */
function exposition(name: string, sharedLabels: Readonly<Record<string, string>>, histogram: DurationHistogram): ExposedSample[] {
  const samples: ExposedSample[] = [];
  let cumulative = 0;
  histogram.upperBounds.forEach((bound, bucket) => {
    cumulative += histogram.bucketCounts[bucket];
    samples.push({ metricName: `${name}_bucket`, labels: { le: String(bound) }, sharedLabels, value: cumulative });
  });
  samples.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, sharedLabels, value: histogram.count });
  samples.push({ metricName: `${name}_sum`, labels: {}, sharedLabels, value: histogram.sum });
  samples.push({ metricName: `${name}_count`, labels: {}, sharedLabels, value: histogram.count });
  return samples;
}
