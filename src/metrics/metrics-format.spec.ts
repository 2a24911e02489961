import { describe, expect, it } from 'vitest';
import { type MetricsFormat, negotiateMetricsFormat } from './metrics-format.js';

const PROMETHEUS =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';

describe(negotiateMetricsFormat.name, () => {
  it.each<[string, string | undefined, unknown, MetricsFormat]>([
    ['curl’s default Accept', '*/*', undefined, 'json'],
    ['no Accept at all', undefined, undefined, 'json'],
    ['Prometheus’s scrape Accept', PROMETHEUS, undefined, 'prometheus'],
    ['text/plain', 'text/plain', undefined, 'prometheus'],
    ['OpenMetrics alone', 'application/openmetrics-text; version=1.0.0', undefined, 'prometheus'],
    ['any text type', 'text/*', undefined, 'prometheus'],
    ['application/json', 'application/json', undefined, 'json'],
    ['a browser’s Accept', BROWSER, undefined, 'json'],
    ['axios’s Accept, JSON and text at the same quality', 'application/json, text/plain, */*', undefined, 'json'],
    ['text ranked above JSON', 'application/json;q=0.5, text/plain', undefined, 'prometheus'],
    ['JSON ranked above text', 'text/plain;q=0.2, application/json', undefined, 'json'],
    ['text refused with q=0', 'text/plain;q=0, */*', undefined, 'json'],
    ['upper-case media types', 'TEXT/PLAIN', undefined, 'prometheus'],
    ['a malformed q, read as absent', 'text/plain;q=high', undefined, 'prometheus'],
    ['?format=prometheus with curl’s Accept', '*/*', 'prometheus', 'prometheus'],
    ['?format=prometheus without Accept', undefined, 'prometheus', 'prometheus'],
    ['?format=json with Prometheus’s Accept', PROMETHEUS, 'json', 'json'],
    ['an unknown ?format, left to Accept', PROMETHEUS, 'xml', 'prometheus'],
    ['?format given twice, left to Accept', '*/*', ['prometheus', 'prometheus'], 'json'],
  ])('answers %s with %s', (_case, accept, format, expected) => {
    expect(negotiateMetricsFormat(accept, format)).toBe(expected);
  });
});
