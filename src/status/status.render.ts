import type { BackendStatus, StatusView } from './status-view.js';

// The status page renders with these functions twice: on the server for the first view, and in
// the browser for every refresh, where they arrive as their own source text (RENDER_SOURCE). So
// the page cannot drift from itself, and the unit specs test what the browser runs. That puts a
// rule on everything here: each function must be plain JavaScript once its types are stripped,
// and use nothing but built-ins and the other functions of this file (no module-level constants,
// no imports); the browser test (test/status-page.e2e-spec.ts) fails if one does.

/** Text or a quoted attribute value made safe for HTML: backend URLs are configuration, not markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' } as Record<string, string>)[char]);
}

/** 1234567 -> "1,234,567" */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Per-second rates: two decimals while small, whole numbers once large. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 10) return perSecond.toFixed(2);
  if (perSecond < 100) return perSecond.toFixed(1);
  return formatCount(Math.round(perSecond));
}

/** 0..1 -> "12.5 %"; a small nonzero share keeps a significant digit, so one error in 100,000 does not read as none. */
export function formatPercent(ratio: number): string {
  if (ratio === 0) return '0 %';
  const percent = ratio * 100;
  if (percent < 0.01) return `${percent.toPrecision(1)} %`;
  return `${percent < 1 ? percent.toFixed(2) : percent.toFixed(1)} %`;
}

/** Milliseconds with about three significant digits, seconds from 1 s up; a dash when unknown. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** The gateway's tiles (the inside of `<dl id="gateway-tiles">`): each a label, a tooltip and a value. */
export function renderGatewayTiles(view: StatusView): string {
  const { lastMinute, totals } = view.gateway;
  const up = view.backends.filter((backend) => backend.availability === 'up').length;
  const tiles: [id: string, label: string, title: string, value: string][] = [
    ['backends-up', 'Backends up', 'Backends taking traffic now', `${up} of ${view.backends.length}`],
    ['rate', 'Req/s', 'Proxied requests per second over the last minute', formatRate(lastMinute.requestsPerSecond)],
    ['error-rate', '5xx/s', 'Requests answered with a status of 500 or more, per second over the last minute', formatRate(lastMinute.errorsPerSecond)],
    ['error-ratio', '5xx', 'Share of requests answered with a status of 500 or more over the last minute', formatPercent(lastMinute.errorRatio)],
    ['p50', 'p50', 'Median request duration over the last minute', formatMs(lastMinute.latencyMs.p50)],
    ['p90', 'p90', '90th percentile request duration over the last minute', formatMs(lastMinute.latencyMs.p90)],
    ['p99', 'p99', '99th percentile request duration over the last minute', formatMs(lastMinute.latencyMs.p99)],
    ['requests', 'Requests', 'Proxied requests since start', formatCount(totals.requests)],
    ['errors', 'Gateway 5xx', 'Requests the gateway answered itself with a 5xx since start (no backend could)', formatCount(totals.errors)],
    ['in-flight', 'In flight', 'Proxied requests in progress now', formatCount(totals.inFlight)],
    ['rate-limited', 'Rate limited', 'Requests refused with 429 since start', formatCount(totals.rateLimited)],
    ['retries', 'Retries', 'Tries made again after a failed one since start', formatCount(totals.retries)],
  ];
  return tiles.map(([id, label, title, value]) => `<div title="${title}"><dt>${label}</dt><dd id="tile-${id}">${value}</dd></div>`).join('');
}

/** The backend table's header row; its columns match renderBackendRow's cells. */
export function renderBackendHeader(): string {
  const columns: [label: string, title: string][] = [
    ['Backend', 'The backend URL as configured'],
    ['Status', 'down: its breaker is open or its health checks fail; probing: one request is testing it; up: takes traffic'],
    ['Breaker', 'Circuit breaker: closed (normal), open (skipped), half-open (one probe at a time)'],
    ['Health', 'Active health checks (healthy while checks are off)'],
    ['In flight', 'Tries waiting for this backend now'],
    ['Req/s', 'Tries sent to it, per second over the last minute (a retried request counts at every backend it tried)'],
    ['5xx/s', 'Of those, failed (refused, reset, timed out) or answered with a status of 500 or more, per second'],
    ['5xx', 'Share of its tries that failed or were answered with a status of 500 or more'],
    ['p50', 'Median try duration over the last minute'],
    ['p90', '90th percentile try duration over the last minute'],
    ['p99', '99th percentile try duration over the last minute'],
    ['Tries', 'Tries sent to this backend since start'],
    ['Failed', 'Tries that failed at this backend since start: refused, reset, timed out'],
  ];
  return `<tr>${columns.map(([label, title]) => `<th scope="col" title="${title}">${label}</th>`).join('')}</tr>`;
}

/** One backend's row: its state in words (and colour), its last minute, its totals. */
export function renderBackendRow(backend: BackendStatus): string {
  const { availability, breaker, health, lastMinute, totals } = backend;
  const { p50, p90, p99 } = lastMinute.latencyMs;
  const url = escapeHtml(backend.url);
  // One request in twenty failing is worth the colour.
  const errorRatioClass = lastMinute.errorRatio >= 0.05 ? ' class="bad"' : '';
  return (
    `<tr class="${availability}" data-backend="${url}">` +
    `<td class="url">${url}</td>` +
    `<td class="status"><span class="badge ${availability}">${availability}</span></td>` +
    `<td class="${breaker}">${breaker}</td><td class="${health}">${health}</td>` +
    `<td>${formatCount(backend.inFlight)}</td>` +
    `<td>${formatRate(lastMinute.requestsPerSecond)}</td><td>${formatRate(lastMinute.errorsPerSecond)}</td>` +
    `<td${errorRatioClass}>${formatPercent(lastMinute.errorRatio)}</td>` +
    `<td>${formatMs(p50)}</td><td>${formatMs(p90)}</td><td>${formatMs(p99)}</td>` +
    `<td>${formatCount(totals.requests)}</td><td>${formatCount(totals.errors)}</td>` +
    `</tr>`
  );
}

/** Every backend's row, in the configured order (the inside of `<tbody id="backend-rows">`). */
export function renderBackendRows(view: StatusView): string {
  return view.backends.map(renderBackendRow).join('\n');
}

/** The source text of every function above, for the page's script. */
export const RENDER_SOURCE = [
  escapeHtml,
  formatCount,
  formatRate,
  formatPercent,
  formatMs,
  renderGatewayTiles,
  renderBackendHeader,
  renderBackendRow,
  renderBackendRows,
]
  .map(String)
  .join('\n');
