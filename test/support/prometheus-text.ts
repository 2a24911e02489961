import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** A metric family's metadata, as its `# HELP` and `# TYPE` lines declare it. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  /** Lower-case: counter, gauge, histogram, summary, untyped. */
  readonly type: string;
}

/** One sample line: its full name (`_bucket`, `_sum`, `_count` included), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A scrape, read by parse-prometheus-text-format (a port of Prometheus's own text parser). */
export interface Exposition {
  readonly families: ReadonlyMap<string, MetricFamily>;
  readonly samples: readonly Sample[];
}

/** One histogram series: cumulative counts by `le`, in the order written, then `_sum` and `_count`. */
export interface ParsedHistogram {
  readonly buckets: ReadonlyMap<string, number>;
  readonly sum: number | undefined;
  readonly count: number | undefined;
}

/**
 * Parses a scrape twice with the same parser: as written, for each family's HELP and TYPE; and
 * with its comment lines left out, for the samples one by one. The second reading is needed
 * because the parser folds a histogram's series into one and drops the `_sum` and `_count` of
 * labelled ones (yunyu/parse-prometheus-text-format#13); without `# TYPE` it returns every
 * sample line as written. Throws on a line that is not valid text format.
 */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, MetricFamily>();
  for (const family of parsePrometheusTextFormat(text)) {
    if (families.has(family.name)) throw new Error(`family ${family.name} is written in two places`);
    families.set(family.name, { name: family.name, help: family.help, type: family.type.toLowerCase() });
  }
  const sampleLines = text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
  const samples: Sample[] = [];
  for (const family of parsePrometheusTextFormat(sampleLines)) {
    for (const sample of family.metrics) samples.push({ name: family.name, labels: sample.labels ?? {}, value: Number(sample.value) });
  }
  return { families, samples };
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** The value of the sample with exactly this name and these labels; undefined when there is none. */
export function sampleValue(exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return exposition.samples.find((sample) => sample.name === name && sameLabels(sample.labels, labels))?.value;
}

/** The histogram series `name` with exactly these labels (besides `le`); undefined when it is not there. */
export function histogramSeries(exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): ParsedHistogram | undefined {
  const buckets = new Map<string, number>();
  for (const { name: sampleName, labels: sampleLabels, value } of exposition.samples) {
    if (sampleName !== `${name}_bucket`) continue;
    const { le, ...rest } = sampleLabels;
    if (le !== undefined && sameLabels(rest, labels)) buckets.set(le, value);
  }
  const sum = sampleValue(exposition, `${name}_sum`, labels);
  const count = sampleValue(exposition, `${name}_count`, labels);
  return buckets.size === 0 && sum === undefined && count === undefined ? undefined : { buckets, sum, count };
}
