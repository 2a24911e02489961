import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  formatCount,
  formatMs,
  formatPercent,
  formatRate,
  RENDER_SOURCE,
  renderBackendHeader,
  renderBackendRows,
  renderGatewayTiles,
} from './status.render.js';
import type { StatusView } from './status-view.js';

const view: StatusView = {
  generatedAt: '2026-11-26T05:30:00.000Z',
  windowSeconds: 60,
  gateway: {
    totals: { requests: 12345, responses: 12000, errors: 45, aborted: 0, inFlight: 3, rateLimited: 0, retries: 7 },
    lastMinute: { requestsPerSecond: 205.75, errorsPerSecond: 0.75, errorRatio: 0.75 / 205.75, latencyMs: { p50: 1.5, p90: 3.25, p99: 40 } },
  },
  backends: [
    {
      url: `http://a/"><img src=x onerror=alert(1)>`,
      availability: 'down',
      breaker: 'open',
      health: 'healthy',
      inFlight: 0,
      totals: { requests: 10, responses: 0, errors: 10 },
      lastMinute: { requestsPerSecond: 0, errorsPerSecond: 0, errorRatio: 0, latencyMs: { p50: null, p90: null, p99: null } },
    },
    {
      url: 'http://b:2',
      availability: 'up',
      breaker: 'closed',
      health: 'healthy',
      inFlight: 2,
      totals: { requests: 12335, responses: 12300, errors: 35 },
      lastMinute: { requestsPerSecond: 205.75, errorsPerSecond: 0.75, errorRatio: 0.75 / 205.75, latencyMs: { p50: 1.5, p90: 3.25, p99: 40 } },
    },
  ],
};

describe('status page rendering', () => {
  it('sends the browser source that renders exactly what the server renders', () => {
    // A fresh context with nothing but built-ins: what the page's script has.
    const browser = runInNewContext(`${RENDER_SOURCE}\n({ renderGatewayTiles, renderBackendRows, renderBackendHeader })`) as {
      renderGatewayTiles: typeof renderGatewayTiles;
      renderBackendRows: typeof renderBackendRows;
      renderBackendHeader: typeof renderBackendHeader;
    };
    expect(browser.renderGatewayTiles(view)).toBe(renderGatewayTiles(view));
    expect(browser.renderBackendRows(view)).toBe(renderBackendRows(view));
    expect(browser.renderBackendHeader()).toBe(renderBackendHeader());
  });

  it('gives the header as many columns as a row has cells', () => {
    const columns = renderBackendHeader().match(/<th /g)!.length;
    const cells = renderBackendRows({ ...view, backends: [view.backends[1]] }).match(/<td[ >]/g)!.length;
    expect(cells).toBe(columns);
  });

  it('escapes a hostile backend URL in the row it renders', () => {
    const rows = renderBackendRows(view);
    expect(rows).not.toContain('<img');
    expect(rows).toContain('data-backend="http://a/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
  });
});

describe(escapeHtml.name, () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('leaves a plain URL alone', () => {
    expect(escapeHtml('http://127.0.0.1:8080/api?x=1')).toBe('http://127.0.0.1:8080/api?x=1');
  });
});

describe('number formats', () => {
  it.each([
    [0, '0'],
    [0.0166, '0.02'],
    [9.994, '9.99'],
    [42.04, '42.0'],
    [20_575.4, '20,575'],
  ])('shows a rate of %d per second as %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });

  it.each([
    [0, '0 %'],
    [0.00001, '0.001 %'],
    [0.00024, '0.02 %'],
    [0.005, '0.50 %'],
    [0.25, '25.0 %'],
    [1, '100.0 %'],
  ])('shows a share of %d as %s', (ratio, text) => {
    expect(formatPercent(ratio)).toBe(text);
  });

  it.each([
    [null, '–'],
    [0.123, '0.12 ms'],
    [12.34, '12.3 ms'],
    [123.4, '123 ms'],
    [1234, '1.23 s'],
  ])('shows %s ms as %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });

  it('groups thousands with commas', () => {
    expect([0, 999, 1000, 1234567].map(formatCount)).toEqual(['0', '999', '1,000', '1,234,567']);
  });
});
