import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecentSummary } from '../metrics/recent-stats.js';
import { renderStatusPage, STATUS_PAGE_CONTENT_SECURITY_POLICY } from './status.page.js';
import type { BackendStatus, StatusView } from './status-view.js';

const GENERATED_AT = '2026-11-26T05:30:00.000Z';
const quietMinute: RecentSummary = { requestsPerSecond: 0, errorsPerSecond: 0, errorRatio: 0, latencyMs: { p50: null, p90: null, p99: null } };

function backend(overrides: Partial<BackendStatus> & Pick<BackendStatus, 'url'>): BackendStatus {
  return {
    service: 'default',
    availability: 'up',
    breaker: 'closed',
    health: 'healthy',
    breakerOrigin: 'local',
    healthOrigin: 'local',
    since: Date.parse(GENERATED_AT) - 65_000,
    lastError: null,
    inFlight: 0,
    totals: { requests: 0, responses: 0, errors: 0 },
    lastMinute: quietMinute,
    ...overrides,
  };
}

function view(backends: BackendStatus[], panicRouting = false): StatusView {
  return {
    generatedAt: GENERATED_AT,
    windowSeconds: 60,
    cluster: null,
    gateway: {
      version: '0.9.1',
      startedAt: Date.parse(GENERATED_AT) - 3_725_000,
      panicRouting,
      totals: { requests: 1234567, responses: 1234000, errors: 567, aborted: 0, inFlight: 3, rateLimited: 9, retries: 2, panicRouted: 42 },
      lastMinute: { requestsPerSecond: 20_575.4, errorsPerSecond: 0.5, errorRatio: 0.5 / 20_575.4, latencyMs: { p50: 1.234, p90: 12.34, p99: 1234 } },
    },
    backends,
    routing: { hash: '0123456789abcdef', services: [{ name: 'default', balance: 'round-robin', backends: backends.length }], routes: [] },
  };
}

/** The `<tr>` of one backend, by its (escaped) URL. */
function rowOf(html: string, escapedUrl: string): string {
  const match = new RegExp(`<tr[^>]*data-backend="${escapedUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>.*?</tr>`, 's').exec(html);
  expect(match, `a row for ${escapedUrl}`).not.toBeNull();
  return match![0];
}

/** The visible words of a row, tags dropped. */
function wordsOf(row: string): string {
  return row.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

describe(renderStatusPage.name, () => {
  it('labels a backend whose breaker is open as down, in words', () => {
    const html = renderStatusPage(view([backend({ url: 'http://a:1', availability: 'down', breaker: 'open' })]));
    const row = rowOf(html, 'http://a:1');
    expect(wordsOf(row)).toMatch(/^default http:\/\/a:1 down open healthy /);
    expect(row).toContain('<tr class="down"');
  });

  it('labels a backend that fails its health checks as down, in words', () => {
    const html = renderStatusPage(view([backend({ url: 'http://a:1', availability: 'down', health: 'unhealthy' })]));
    expect(wordsOf(rowOf(html, 'http://a:1'))).toMatch(/^default http:\/\/a:1 down closed unhealthy /);
  });

  it('labels a healthy backend up and a half-open one probing', () => {
    const html = renderStatusPage(
      view([backend({ url: 'http://a:1' }), backend({ url: 'http://b:2', availability: 'probing', breaker: 'half-open' })]),
    );
    expect(wordsOf(rowOf(html, 'http://a:1'))).toMatch(/^default http:\/\/a:1 up closed healthy /);
    expect(wordsOf(rowOf(html, 'http://b:2'))).toMatch(/^default http:\/\/b:2 probing half-open healthy /);
    expect(html).not.toMatch(/>down</);
  });

  it('escapes a backend URL everywhere it appears, text and attribute', () => {
    const hostile = `http://x/"><script>alert('x')</script>&`;
    const html = renderStatusPage(view([backend({ url: hostile })]));
    expect(html).not.toContain(hostile);
    expect(html).not.toContain("<script>alert('x')");
    // Exactly one script element: the page's own.
    expect(html.match(/<script>/g)).toHaveLength(1);
    const escaped = 'http://x/&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;';
    expect(html).toContain(`data-backend="${escaped}"`);
    expect(html).toContain(`<td class="url">${escaped}</td>`);
  });

  it('shows the last minute per backend: rates, error share and latency percentiles', () => {
    const lastMinute: RecentSummary = { requestsPerSecond: 150.4, errorsPerSecond: 15.04, errorRatio: 0.1, latencyMs: { p50: 2.5, p90: 48.25, p99: 2500 } };
    const html = renderStatusPage(view([backend({ url: 'http://a:1', inFlight: 7, lastMinute, totals: { requests: 9000, responses: 8000, errors: 1000 } })]));
    expect(wordsOf(rowOf(html, 'http://a:1'))).toBe('default http://a:1 up closed healthy 1m 5s since 05:28:55 UTC 7 150 15.0 10.0 % 2.50 ms 48.3 ms 2.50 s 9,000 1,000 –');
    // One request in ten failing is worth the colour.
    expect(rowOf(html, 'http://a:1')).toContain('<td class="bad">10.0 %</td>');
  });

  it('shows a dash for percentiles of a minute with no requests', () => {
    const html = renderStatusPage(view([backend({ url: 'http://a:1' })]));
    expect(wordsOf(rowOf(html, 'http://a:1'))).toBe('default http://a:1 up closed healthy 1m 5s since 05:28:55 UTC 0 0 0 0 % – – – 0 0 –');
  });

  it('shows how long a down backend has been down, and the last error it gave with when', () => {
    const since = Date.parse(GENERATED_AT) - 200_000;
    const html = renderStatusPage(
      view([backend({ url: 'http://a:1', availability: 'down', breaker: 'open', since, lastError: { reason: 'ECONNREFUSED', at: since }, totals: { requests: 3, responses: 0, errors: 3 } })]),
    );
    expect(wordsOf(rowOf(html, 'http://a:1'))).toBe('default http://a:1 down open healthy 3m 20s since 05:26:40 UTC 0 0 0 0 % – – – 3 3 ECONNREFUSED 3m 20s ago, 05:26:40 UTC');
  });

  it('shows a panic notice while every backend is down, and an empty place for it otherwise', () => {
    const down = backend({ url: 'http://a:1', availability: 'down', breaker: 'open' });
    const notice = /<div id="panic-notice">(.*?)<\/div>/s;
    expect(notice.exec(renderStatusPage(view([down], true)))?.[1]).toMatch(/^<p class="panic"><strong>Panic routing:<\/strong> every backend is down .* 42 requests panic-routed since start\.<\/p>$/);
    expect(notice.exec(renderStatusPage(view([down, backend({ url: 'http://b:2' })])))?.[1]).toBe('');
  });

  it('shows the gateway totals and its last minute', () => {
    const html = renderStatusPage(view([backend({ url: 'http://a:1' }), backend({ url: 'http://b:2', availability: 'down', breaker: 'open' })]));
    expect(html).toContain('<dd id="tile-backends-up">1 of 2</dd>');
    expect(html).toContain('<dd id="tile-rate">20,575</dd>');
    expect(html).toContain('<dd id="tile-error-ratio">0.002 %</dd>');
    expect(html).toContain('<dd id="tile-p50">1.23 ms</dd>');
    expect(html).toContain('<dd id="tile-p99">1.23 s</dd>');
    expect(html).toContain('<dd id="tile-requests">1,234,567</dd>');
    expect(html).toContain('<dd id="tile-rate-limited">9</dd>');
    expect(html).toContain('<dd id="tile-panic-routed">42</dd>');
    expect(html).toContain('<dd id="tile-uptime">1h 2m</dd>');
    expect(html).toContain('<dd id="tile-version">0.9.1</dd>');
  });

  it('is self-contained: no external script, style, font, image or link', () => {
    const html = renderStatusPage(view([backend({ url: 'http://a:1' })]));
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(?!data:)/);
    expect(html).not.toMatch(/@import|url\(|@font-face/);
  });

  it('polls its own JSON with the script the security policy allows', () => {
    const html = renderStatusPage(view([]));
    const script = /<script>(.*)<\/script>/s.exec(html)![1];
    expect(script).toContain("location.pathname + '?format=json'");
    expect(script).toContain('var REFRESH_MS = 2000;');
    // Every part that changes is re-rendered from the JSON: the panic notice, the tiles, the rows.
    for (const call of ['renderPanicNotice(view)', 'renderGatewayTiles(view)', 'renderBackendRows(view)']) expect(script).toContain(call);
    // The policy names the script by its hash: the page's exact script runs and nothing else.
    const allowed = /script-src 'sha256-([^']+)'/.exec(STATUS_PAGE_CONTENT_SECURITY_POLICY)![1];
    expect(allowed).toBe(createHashOf(script));
    expect(STATUS_PAGE_CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
    expect(STATUS_PAGE_CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
  });
});

function createHashOf(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}
