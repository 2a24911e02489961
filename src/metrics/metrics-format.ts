/** How GET /metrics answers: the JSON snapshot, or Prometheus's text exposition format. */
export type MetricsFormat = 'json' | 'prometheus';

/**
 * Media ranges answered with the text format. Prometheus asks for OpenMetrics first and text/plain
 * after; it accepts the 0.0.4 text format prom-client writes for either.
 */
const PROMETHEUS_MEDIA_RANGES: ReadonlySet<string> = new Set(['application/openmetrics-text', 'text/plain', 'text/*']);
const JSON_MEDIA_RANGES: ReadonlySet<string> = new Set(['application/json', 'application/*']);

/**
 * Picks the answer's format from `?format=` (`json` or `prometheus`; it wins, so a person can
 * override a tool's header) or else from `Accept`. JSON is the default and wins ties: curl's
 * "anything", a browser's `text/html,…` and axios's `application/json, text/plain, …` all get
 * JSON; the text format goes only to clients that rank it above anything JSON.
 */
export function negotiateMetricsFormat(accept: string | undefined, format: unknown): MetricsFormat {
  if (format === 'json' || format === 'prometheus') return format;
  if (!accept) return 'json';
  let prometheusQuality = 0;
  let jsonQuality = 0;
  for (const range of accept.split(',')) {
    const [mediaType = '', ...parameters] = range.split(';');
    const type = mediaType.trim().toLowerCase();
    if (PROMETHEUS_MEDIA_RANGES.has(type)) prometheusQuality = Math.max(prometheusQuality, quality(parameters));
    else if (JSON_MEDIA_RANGES.has(type)) jsonQuality = Math.max(jsonQuality, quality(parameters));
  }
  return prometheusQuality > jsonQuality ? 'prometheus' : 'json';
}

/** A media range's `q` (RFC 9110 §12.4.2): 1 when absent; a malformed one is ignored as if absent. */
function quality(parameters: readonly string[]): number {
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'q') continue;
    const q = Number(value.trim());
    return value.trim() !== '' && q >= 0 && q <= 1 ? q : 1;
  }
  return 1;
}
