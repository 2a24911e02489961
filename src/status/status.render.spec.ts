import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  formatClock,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
  RENDER_SOURCE,
  renderBackendHeader,
  renderBackendRows,
  renderCluster,
  renderGatewayTiles,
  renderPanicNotice,
  renderRoutes,
} from './status.render.js';
import type { StatusView } from './status-view.js';

/** generatedAt, 2026-11-26T05:30:00Z, in epoch ms. */
const NOW = 1_795_671_000_000;

const view: StatusView = {
  generatedAt: '2026-11-26T05:30:00.000Z',
  windowSeconds: 60,
  cluster: null,
  gateway: {
    version: '1.4.2',
    // Two days and thirty minutes before generatedAt.
    startedAt: Date.parse('2026-11-24T05:00:00Z'),
    panicRouting: false,
    totals: { requests: 12345, responses: 12000, errors: 45, aborted: 0, inFlight: 3, rateLimited: 0, retries: 7, panicRouted: 4 },
    lastMinute: { requestsPerSecond: 205.75, errorsPerSecond: 0.75, errorRatio: 0.75 / 205.75, latencyMs: { p50: 1.5, p90: 3.25, p99: 40 } },
  },
  backends: [
    {
      url: `http://a/"><img src=x onerror=alert(1)>`,
      service: 'users',
      availability: 'down',
      breaker: 'open',
      health: 'healthy',
      breakerOrigin: 'local',
      healthOrigin: 'local',
      since: NOW - 192_000,
      lastError: { reason: 'ECONNREFUSED', at: NOW - 12_000 },
      inFlight: 0,
      totals: { requests: 10, responses: 0, errors: 10 },
      lastMinute: { requestsPerSecond: 0, errorsPerSecond: 0, errorRatio: 0, latencyMs: { p50: null, p90: null, p99: null } },
    },
    {
      url: 'http://b:2',
      service: 'users',
      availability: 'up',
      breaker: 'closed',
      health: 'healthy',
      breakerOrigin: 'local',
      healthOrigin: 'local',
      // The day before generatedAt.
      since: Date.parse('2026-11-25T23:00:00Z'),
      lastError: null,
      inFlight: 2,
      totals: { requests: 12335, responses: 12300, errors: 35 },
      lastMinute: { requestsPerSecond: 205.75, errorsPerSecond: 0.75, errorRatio: 0.75 / 205.75, latencyMs: { p50: 1.5, p90: 3.25, p99: 40 } },
    },
  ],
  routing: {
    hash: '0123456789abcdef',
    services: [{ name: 'users', balance: 'round-robin', backends: 2 }],
    routes: [
      { host: 'api.example.com', pathPrefix: '/users', methods: ['GET', 'POST'], headers: { 'x-version': '<2>' }, service: 'users', stripPrefix: true, rateLimit: 50 },
      { host: null, pathPrefix: '/', methods: null, headers: {}, service: 'users', stripPrefix: false, rateLimit: null },
    ],
  },
};

const clustered: StatusView = {
  ...view,
  cluster: {
    redisUp: true,
    seenAt: NOW - 500,
    instances: [
      { id: 'a', self: true, address: 'http://10.0.0.1:3000', hostname: 'gw-a', pid: 42, version: '0.9.1', startedAt: NOW - 3_720_000, requestsPerSecond: 100, redisUp: true },
      { id: 'b', self: false, address: 'http://10.0.0.2:3000', hostname: 'gw-b', pid: 43, version: '0.9.0', startedAt: NOW - 60_000, requestsPerSecond: 12.5, redisUp: false },
    ],
  },
};

describe('status page rendering', () => {
  it('sends the browser source that renders exactly what the server renders', () => {
    // A fresh context with nothing but built-ins: what the page's script has.
    const browser = runInNewContext(`${RENDER_SOURCE}\n({ renderGatewayTiles, renderBackendRows, renderBackendHeader, renderPanicNotice, renderCluster })`) as {
      renderCluster: typeof renderCluster;
      renderGatewayTiles: typeof renderGatewayTiles;
      renderBackendRows: typeof renderBackendRows;
      renderBackendHeader: typeof renderBackendHeader;
      renderPanicNotice: typeof renderPanicNotice;
    };
    const panicking: StatusView = { ...view, gateway: { ...view.gateway, panicRouting: true } };
    expect(browser.renderGatewayTiles(view)).toBe(renderGatewayTiles(view));
    expect(browser.renderBackendRows(view)).toBe(renderBackendRows(view));
    expect(browser.renderBackendHeader()).toBe(renderBackendHeader());
    expect(browser.renderPanicNotice(panicking)).toBe(renderPanicNotice(panicking));
    expect(browser.renderPanicNotice(panicking)).not.toBe('');
    expect(browser.renderCluster(clustered)).toBe(renderCluster(clustered));
  });

  it('shows no cluster section for a gateway alone', () => {
    expect(renderCluster(view)).toBe('');
  });

  it("lists the cluster's live instances, this one marked, with version, uptime, req/s and whether limits are shared", () => {
    const html = renderCluster(clustered);
    expect(html).toContain('2 live instances');
    expect(html).toContain('Redis answers');
    const rows = html.split('<tr').slice(2);
    expect(rows[0]).toContain('class="self"');
    expect(rows[0]).toContain('http://10.0.0.1:3000 <small>this instance</small>');
    expect(rows[0]).toContain('<td>1h 2m</td>');
    expect(rows[1]).toContain('gw-b <small>pid 43</small></td><td>0.9.0</td>');
    expect(rows[1]).toContain('<td>12.5</td>');
    expect(rows[1]).toContain('<td class="unhealthy">alone</td>');
  });

  it('says when Redis does not answer and how old the list of instances is', () => {
    const html = renderCluster({ ...clustered, cluster: { ...clustered.cluster!, redisUp: false, seenAt: NOW - 5_000 } });
    expect(html).toContain('Redis does not answer</span>: each instance decides alone; instances as last seen 5s ago');
  });

  it('labels the per-backend 5xx columns as counting tries, not the errors clients saw', () => {
    const header = renderBackendHeader();
    const columns = [...header.matchAll(/<th scope="col" title="([^"]*)">([^<]*)<\/th>/g)].map(([, title, label]) => ({ label, title }));
    const tries = columns.filter(({ label }) => label.includes('5xx'));
    expect(tries.map(({ label }) => label)).toEqual(['Try 5xx/s', 'Try 5xx']);
    for (const { title } of tries) expect(title).toMatch(/tries, not .*errors clients saw/i);
  });

  it('shows how long each backend has been in its state and since when, with the date once it is another day', () => {
    const [down, up] = renderBackendRows(view).split('\n');
    expect(down).toContain('<td class="since">3m 12s <small>since 05:26:48 UTC</small></td>');
    expect(up).toContain('<td class="since">6h 30m <small>since 2026-11-25 23:00:00 UTC</small></td>');
  });

  it('shows the last error a backend gave and how long ago, and a dash for one that never failed', () => {
    const [down, up] = renderBackendRows(view).split('\n');
    expect(down).toContain('<td class="last-error">ECONNREFUSED <small>12s ago, 05:29:48 UTC</small></td>');
    expect(up).toContain('<td class="last-error">–</td>');
  });

  it('escapes the reason of a last error', () => {
    const hostile: StatusView = { ...view, backends: [{ ...view.backends[1], lastError: { reason: '<b>x</b>', at: NOW } }] };
    expect(renderBackendRows(hostile)).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(renderBackendRows(hostile)).not.toContain('<b>');
  });

  it('shows the gateway’s version, its uptime and the requests it panic-routed', () => {
    const tiles = renderGatewayTiles(view);
    expect(tiles).toContain('<dd id="tile-version">1.4.2</dd>');
    expect(tiles).toMatch(/<div title="Up since 2026-11-24 05:00:00 UTC"><dt>Uptime<\/dt><dd id="tile-uptime">2d 0h<\/dd><\/div>/);
    expect(tiles).toContain('<dd id="tile-panic-routed">4</dd>');
  });

  it('shows no panic notice while some backend is not down', () => {
    expect(renderPanicNotice(view)).toBe('');
  });

  it('says the pool is panic routing, and how many requests were, while every backend is down', () => {
    const notice = renderPanicNotice({ ...view, gateway: { ...view.gateway, panicRouting: true, totals: { ...view.gateway.totals, panicRouted: 1234 } } });
    expect(notice).toMatch(/^<p class="panic">/);
    expect(notice.replace(/<[^>]+>/g, '')).toBe(
      'Panic routing: every backend is down by its own signals (breaker open or health checks failing), so requests are sent to them anyway rather than refused. 1,234 requests panic-routed since start.',
    );
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

describe('time formats', () => {
  it.each([
    [-5, '0s'],
    [0, '0s'],
    [999, '0s'],
    [42_500, '42s'],
    [192_000, '3m 12s'],
    [3_600_000, '1h 0m'],
    [7_530_000, '2h 5m'],
    [183_600_000, '2d 3h'],
  ])('shows a length of %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('shows an instant as a UTC clock time, with its date only when it is not the day of the reading', () => {
    expect(formatClock(NOW - 12_000, NOW)).toBe('05:29:48 UTC');
    expect(formatClock(Date.parse('2026-11-25T23:00:00Z'), NOW)).toBe('2026-11-25 23:00:00 UTC');
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

  it('lists the routes in the order they are tried, with the configuration version, escaping what the file says', () => {
    const html = renderRoutes(view);
    expect(html).toContain('configuration 0123456789abcdef; 1 services');
    expect(html).toContain('<td>api.example.com</td><td class="url">/users</td><td>GET, POST</td><td>x-version: &lt;2&gt;</td><td class="service">users</td><td>yes</td><td>50</td>');
    expect(html).toContain('<td><small>any</small></td><td class="url">/</td><td><small>any</small></td><td><small>none</small></td><td class="service">users</td><td>no</td><td><small>--rate-limit</small></td>');
  });
});
