import { createHash } from 'node:crypto';
import { escapeHtml, RENDER_SOURCE, renderBackendHeader, renderBackendRows, renderCluster, renderGatewayTiles, renderPanicNotice, renderRoutes } from './status.render.js';
import type { StatusView } from './status-view.js';

/** How often the page asks for fresh numbers. */
export const REFRESH_MS = 2000;

const STYLE = `
:root { color-scheme: light dark; --up: #1a7f37; --down: #cf222e; --probing: #9a6700; --muted: #6e7781; --line: #d0d7de; --down-row: #ffebe9; }
@media (prefers-color-scheme: dark) { :root { --up: #3fb950; --down: #f85149; --probing: #d29922; --muted: #8b949e; --line: #30363d; --down-row: #3b1d1d; } }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
h2 small, #updated { color: var(--muted); font-weight: normal; }
#updated.stale { color: var(--down); font-weight: 600; }
.tiles { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0; }
.tiles div { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .7rem; min-width: 6rem; }
.tiles dt { color: var(--muted); font-size: .8rem; }
.tiles dd { margin: 0; font-size: 1.1rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .6rem; text-align: right; white-space: nowrap; }
th:nth-child(-n+5), td:nth-child(-n+5), th:last-child, td:last-child { text-align: left; }
th { color: var(--muted); font-weight: 600; }
tr.down { background: var(--down-row); }
.badge { display: inline-block; min-width: 4.5em; text-align: center; border-radius: 1em; padding: 0 .5em; color: #fff; font-weight: 600; }
.badge.up { background: var(--up); } .badge.down { background: var(--down); } .badge.probing { background: var(--probing); }
.closed, .healthy { color: var(--up); } .open, .unhealthy, .bad { color: var(--down); font-weight: 600; } .half-open { color: var(--probing); font-weight: 600; }
tr.self td.url { font-weight: 600; }
td.url { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
td small { display: block; color: var(--muted); font-size: .8em; }
.panic { border: 2px solid var(--down); background: var(--down-row); border-radius: 6px; padding: .5rem .8rem; margin: 1rem 0 0; max-width: 60rem; }
.panic strong { color: var(--down); }
`;

/** Polls the JSON every REFRESH_MS and re-renders in place with the server's own render functions. */
const SCRIPT = `
${RENDER_SOURCE}
var REFRESH_MS = ${REFRESH_MS};
var shownAt = null;
function showUpdated(text, stale) {
  var updated = document.getElementById('updated');
  updated.textContent = text;
  updated.className = stale ? 'stale' : '';
}
function render(view) {
  document.getElementById('panic-notice').innerHTML = renderPanicNotice(view);
  document.getElementById('gateway-tiles').innerHTML = renderGatewayTiles(view);
  document.getElementById('backend-rows').innerHTML = renderBackendRows(view);
  document.getElementById('routes').innerHTML = renderRoutes(view);
  document.getElementById('cluster').innerHTML = renderCluster(view);
  // In UTC like every clock time on the page (the first view comes from the server, which cannot know the reader's zone).
  shownAt = formatClock(Date.parse(view.generatedAt), Date.parse(view.generatedAt));
  showUpdated('Updated ' + shownAt + ' \\u00b7 refreshes every ' + REFRESH_MS / 1000 + ' s', false);
}
function refresh() {
  // Not while the tab is hidden: nobody is looking.
  if (document.hidden) { setTimeout(refresh, REFRESH_MS); return; }
  fetch(location.pathname + '?format=json', { cache: 'no-store', signal: AbortSignal.timeout(REFRESH_MS * 2) })
    .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
    .then(render, function () { showUpdated('The gateway is not answering: these numbers are from ' + (shownAt || 'page load') + '. Retrying\\u2026', true); })
    // A bug of this page, not news about the gateway: say so, and leave the details where developers look.
    .catch(function (error) { console.error('status page: cannot render', error); showUpdated('This page could not show the latest numbers (see the browser console).', true); })
    .finally(function () { setTimeout(refresh, REFRESH_MS); });
}
setTimeout(refresh, REFRESH_MS);
`;

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/**
 * Only this page's own style and script may run, and it may talk to nothing but the gateway:
 * should a backend URL ever slip past escaping, what it injects still does nothing.
 */
export const STATUS_PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${sha256Source(STYLE)}`,
  `script-src ${sha256Source(SCRIPT)}`,
  "connect-src 'self'",
  // For the empty data: icon, which keeps the browser from asking for /favicon.ico (a proxied path).
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The whole status page for one view: self-contained (inline style and script, nothing fetched but
 * its own JSON), readable without the script, and refreshed in place by it every REFRESH_MS.
 */
export function renderStatusPage(view: StatusView): string {
  const generatedAt = escapeHtml(view.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gateway status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>Gateway status</h1>
<p id="updated">Updated ${generatedAt} &middot; refreshes every ${REFRESH_MS / 1000} s</p>
<div id="panic-notice">${renderPanicNotice(view)}</div>
<h2>Gateway <small>rates and latency over the last ${view.windowSeconds} s; counts since start</small></h2>
<dl class="tiles" id="gateway-tiles">${renderGatewayTiles(view)}</dl>
<h2>Backends <small>a backend is down while its breaker is open or its health checks fail; clock times in UTC</small></h2>
<table>
<thead>${renderBackendHeader()}</thead>
<tbody id="backend-rows">
${renderBackendRows(view)}
</tbody>
</table>
<div id="routes">${renderRoutes(view)}</div>
<div id="cluster">${renderCluster(view)}</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
