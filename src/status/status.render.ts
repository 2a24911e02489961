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

/** A length of time in its two largest units: "42s", "3m 12s", "2h 5m", "3d 4h". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * An instant as a UTC clock time, "14:02:31 UTC", with its date when it is not the day of `nowMs`.
 * UTC, because the server renders the first view and cannot know the reader's time zone.
 */
export function formatClock(epochMs: number, nowMs: number): string {
  const iso = new Date(epochMs).toISOString();
  const day = iso.slice(0, 10);
  return `${day === new Date(nowMs).toISOString().slice(0, 10) ? '' : `${day} `}${iso.slice(11, 19)} UTC`;
}

/** The gateway's tiles (the inside of `<dl id="gateway-tiles">`): each a label, a tooltip and a value. */
export function renderGatewayTiles(view: StatusView): string {
  const { lastMinute, totals, startedAt } = view.gateway;
  // Ages are measured to the moment of the reading, not the browser's clock: a refresh shows them as they were then.
  const now = Date.parse(view.generatedAt);
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
    ['panic-routed', 'Panic-routed', 'Requests sent to a backend out of rotation since start, because every backend was down (panic routing)', formatCount(totals.panicRouted)],
    ['uptime', 'Uptime', `Up since ${formatClock(startedAt, now)}`, formatDuration(now - startedAt)],
    ['version', 'Version', 'The gateway’s version (package.json)', escapeHtml(view.gateway.version)],
  ];
  return tiles.map(([id, label, title, value]) => `<div title="${title}"><dt>${label}</dt><dd id="tile-${id}">${value}</dd></div>`).join('');
}

/** The backend table's header row; its columns match renderBackendRow's cells. */
export function renderBackendHeader(): string {
  const columns: [label: string, title: string][] = [
    ['Service', 'The service the backend belongs to'],
    ['Backend', 'The backend URL as configured'],
    ['Status', 'down: its breaker is open or its health checks fail; probing: one request is testing it; up: takes traffic'],
    ['Breaker', 'Circuit breaker: closed (normal), open (skipped), half-open (one probe at a time)'],
    ['Health', 'Active health checks (healthy while checks are off)'],
    ['Since', 'How long it has been in this status: since its breaker or health checks last changed, or since the gateway started'],
    ['In flight', 'Tries waiting for this backend now'],
    ['Req/s', 'Tries sent to it, per second over the last minute (a retried request counts at every backend it tried)'],
    ['Try 5xx/s', 'Of those, failed (refused, reset, timed out) or answered with a status of 500 or more, per second. Tries, not the errors clients saw: a retry may have answered the client'],
    ['Try 5xx', 'Share of its tries that failed or were answered with a status of 500 or more. Tries, not the errors clients saw: a retry may have answered the client'],
    ['p50', 'Median try duration over the last minute'],
    ['p90', '90th percentile try duration over the last minute'],
    ['p99', '99th percentile try duration over the last minute'],
    ['Tries', 'Tries sent to this backend since start'],
    ['Failed', 'Tries that failed at this backend since start: refused, reset, timed out'],
    ['Last error', 'What its latest failed try met (ECONNREFUSED, timeout, or the status that failed it), and when'],
  ];
  return `<tr>${columns.map(([label, title]) => `<th scope="col" title="${title}">${label}</th>`).join('')}</tr>`;
}

/** Marks a state another member of the cluster decided (its breaker opened there, or it ran the check). */
export function fromCluster(origin: BackendStatus['breakerOrigin']): string {
  return origin === 'cluster' ? ' <small title="decided by another instance of the cluster">(cluster)</small>' : '';
}

/** One backend's row: its state in words (and colour) and for how long, its last minute, its totals, its last error. */
export function renderBackendRow(backend: BackendStatus, nowMs: number): string {
  const { availability, breaker, health, lastError, lastMinute, totals } = backend;
  const { p50, p90, p99 } = lastMinute.latencyMs;
  const url = escapeHtml(backend.url);
  // One request in twenty failing is worth the colour.
  const errorRatioClass = lastMinute.errorRatio >= 0.05 ? ' class="bad"' : '';
  return (
    `<tr class="${availability}" data-backend="${url}">` +
    `<td class="service">${escapeHtml(backend.service)}</td><td class="url">${url}</td>` +
    `<td class="status"><span class="badge ${availability}">${availability}</span></td>` +
    `<td class="${breaker}">${breaker}${fromCluster(backend.breakerOrigin)}</td><td class="${health}">${health}${fromCluster(backend.healthOrigin)}</td>` +
    `<td class="since">${formatDuration(nowMs - backend.since)} <small>since ${formatClock(backend.since, nowMs)}</small></td>` +
    `<td>${formatCount(backend.inFlight)}</td>` +
    `<td>${formatRate(lastMinute.requestsPerSecond)}</td><td>${formatRate(lastMinute.errorsPerSecond)}</td>` +
    `<td${errorRatioClass}>${formatPercent(lastMinute.errorRatio)}</td>` +
    `<td>${formatMs(p50)}</td><td>${formatMs(p90)}</td><td>${formatMs(p99)}</td>` +
    `<td>${formatCount(totals.requests)}</td><td>${formatCount(totals.errors)}</td>` +
    (lastError === null
      ? '<td class="last-error">–</td>'
      : `<td class="last-error">${escapeHtml(lastError.reason)} <small>${formatDuration(nowMs - lastError.at)} ago, ${formatClock(lastError.at, nowMs)}</small></td>`) +
    `</tr>`
  );
}

/** Every backend's row, in the configured order (the inside of `<tbody id="backend-rows">`). */
export function renderBackendRows(view: StatusView): string {
  const now = Date.parse(view.generatedAt);
  return view.backends.map((backend) => renderBackendRow(backend, now)).join('\n');
}

/** The inside of `<div id="panic-notice">`: empty unless every backend is down and requests go to them anyway. */
export function renderPanicNotice(view: StatusView): string {
  if (!view.gateway.panicRouting) return '';
  return (
    '<p class="panic"><strong>Panic routing:</strong> every backend is down by its own signals (breaker open or health checks failing), ' +
    `so requests are sent to them anyway rather than refused. ${formatCount(view.gateway.totals.panicRouted)} requests panic-routed since start.</p>`
  );
}

/**
 * The inside of `<div id="cluster">`: empty for a gateway alone; in a cluster, every live instance
 * from its heartbeat (address, version, uptime, req/s, whether Redis answers it).
 */
export function renderCluster(view: StatusView): string {
  const cluster = view.cluster;
  if (cluster === null) return '';
  const now = Date.parse(view.generatedAt);
  const redis = cluster.redisUp
    ? '<span class="healthy">Redis answers</span>'
    : `<span class="unhealthy">Redis does not answer</span>: each instance decides alone; instances as last seen ${cluster.seenAt === 0 ? 'never' : `${formatDuration(now - cluster.seenAt)} ago`}`;
  const rows = cluster.instances.map(
    (instance) =>
      `<tr${instance.self ? ' class="self"' : ''}><td class="url">${escapeHtml(instance.address)}${instance.self ? ' <small>this instance</small>' : ''}</td>` +
      `<td>${escapeHtml(instance.hostname)} <small>pid ${instance.pid}</small></td><td>${escapeHtml(instance.version)}</td>` +
      `<td>${formatDuration(now - instance.startedAt)}</td><td>${formatRate(instance.requestsPerSecond)}</td>` +
      `<td class="${instance.redisUp ? 'healthy' : 'unhealthy'}">${instance.redisUp ? 'shared' : 'alone'}</td></tr>`,
  );
  return (
    `<h2>Cluster <small>${cluster.instances.length} live instances (heartbeats within 3 s); ${redis}</small></h2>` +
    '<table><thead><tr><th title="Where the instance serves">Instance</th><th title="Host and process">Host</th><th>Version</th><th>Uptime</th>' +
    '<th title="Proxied requests per second over the last minute">Req/s</th><th title="Whether its rate limits are shared through Redis or decided alone">Limits</th></tr></thead>' +
    `<tbody id="cluster-rows">${rows.join('')}</tbody></table>`
  );
}

/**
 * The inside of `<div id="routes">`: the configuration's version and its routes in the order they
 * are tried (exact hosts, then wildcards, then any host; longest prefix first; then file order).
 */
export function renderRoutes(view: StatusView): string {
  const { routing } = view;
  const rows = routing.routes.map(
    (route) =>
      `<tr><td>${route.host === null ? '<small>any</small>' : escapeHtml(route.host)}</td><td class="url">${escapeHtml(route.pathPrefix)}</td>` +
      `<td>${route.methods === null ? '<small>any</small>' : escapeHtml(route.methods.join(', '))}</td>` +
      `<td>${escapeHtml(Object.entries(route.headers).map(([name, value]) => name + ': ' + value).join(', ')) || '<small>none</small>'}</td>` +
      `<td class="service">${escapeHtml(route.service)}</td><td>${route.stripPrefix ? 'yes' : 'no'}</td>` +
      `<td>${route.rateLimit === null ? '<small>--rate-limit</small>' : formatCount(route.rateLimit)}</td></tr>`,
  );
  return (
    `<h2>Routes <small>configuration ${escapeHtml(routing.hash)}; ${routing.services.length} services</small></h2>` +
    '<table><thead><tr><th>Host</th><th>Path prefix</th><th>Methods</th><th>Headers</th><th>Service</th><th title="Whether the prefix is removed before forwarding">Strip</th><th title="Requests per second per client on this route">Limit</th></tr></thead>' +
    `<tbody id="route-rows">${rows.join('')}</tbody></table>`
  );
}

/** The source text of every function above, for the page's script. */
export const RENDER_SOURCE = [
  escapeHtml,
  formatCount,
  formatRate,
  formatPercent,
  formatMs,
  formatDuration,
  formatClock,
  renderGatewayTiles,
  renderBackendHeader,
  fromCluster,
  renderBackendRow,
  renderBackendRows,
  renderPanicNotice,
  renderRoutes,
  renderCluster,
]
  .map(String)
  .join('\n');
