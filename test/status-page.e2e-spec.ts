import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { launchChromium } from './support/chromium.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';

const ARTIFACT = fileURLToPath(new URL('./artifacts/status-page.png', import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL('../docs/status-page.png', import.meta.url));

/** The words in a backend's row of the page's table, as a reader sees them. */
function rowText(page: Page, backend: TestBackend): Promise<string> {
  return page.locator(`tr[data-backend="${backend.url}"]`).innerText();
}

/**
 * Requests one after another until stopped, or until a count or a time is reached, so a failing
 * test cannot leave it running. Each answer is awaited: this is traffic, not load.
 */
function keepTrafficFlowing(url: string, { maxRequests, maxMs }: { maxRequests: number; maxMs: number }) {
  let stopped = false;
  let sent = 0;
  const statuses: number[] = [];
  const deadline = Date.now() + maxMs;
  const done = (async () => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent++;
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (res) {
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    statuses,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('status page in a browser', () => {
  const backends: TestBackend[] = [];
  let gateway: TestGateway | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await Promise.all(backends.map((backend) => backend.close()));
  });

  it('shows a stopped backend as down once its breaker opens, its last error and since when, without a reload; then the panic notice once both are stopped', async () => {
    const steady = await startBackend({ name: 'steady', handler: (_req, res) => setTimeout(() => res.end('steady'), 1 + Math.random() * 3) });
    const victim = await startBackend({ name: 'victim' });
    backends.push(steady, victim);
    // One failure opens a breaker, and a long cool-down keeps it open (no half-open probe) while the test reads the page.
    gateway = await startGateway([backendsFlag(steady, victim), '--breaker-failures=1', '--breaker-cooldown=5m', '--rate-limit=0']);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1440, height: 560 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    const pageRequests: string[] = [];
    page.on('request', (request) => pageRequests.push(request.url()));

    const response = await page.goto(`${gateway.url}/status`, { timeout: 10_000 });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await rowText(page, victim)).toMatch(/\bup\b/);

    const traffic = keepTrafficFlowing(`${gateway.url}/items`, { maxRequests: 400, maxMs: 15_000 });
    try {
      await victim.close();
      // The page's own polling must bring the news: no reload, no navigation.
      await page
        .locator(`tr[data-backend="${victim.url}"] .badge`)
        .filter({ hasText: /^down$/ })
        .waitFor({ timeout: 10_000 })
        .catch((error: Error) => {
          // A broken script shows up here as a timeout; say why.
          throw new Error(`${error.message}\nthe page reported: ${problems.join('\n') || 'nothing'}`);
        });
      // Let one more refresh count the steady backend's traffic over the last minute.
      await page.waitForFunction(() => document.querySelector('#tile-rate')?.textContent !== '0', undefined, { timeout: 5_000 });
    } finally {
      await traffic.stop();
    }

    const victimRow = await rowText(page, victim);
    const steadyRow = await rowText(page, steady);
    expect(victimRow).toMatch(/^default\s+\S+\s+down\s+open\s+healthy\s+\d+s\s+since \d\d:\d\d:\d\d UTC\b/);
    expect(steadyRow).toMatch(/^default\s+\S+\s+up\s+closed\s+healthy\s+\d+s\s+since \d\d:\d\d:\d\d UTC\b/);
    // Its last error, refreshed from the JSON: the refused connection, seconds ago.
    expect(victimRow).toMatch(/\bECONNREFUSED\s+\d+s ago, \d\d:\d\d:\d\d UTC$/);
    expect(steadyRow).toMatch(/\s–$/);
    expect(steadyRow).toMatch(/\d+(\.\d+)? ms/); // latency percentiles of real traffic
    expect(await page.locator('#tile-backends-up').innerText()).toBe('1 of 2');
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await page.locator('#tile-version').innerText()).toBe(version);
    expect(await page.locator('#tile-uptime').innerText()).toMatch(/^\d+s$/);
    expect(await page.locator('#panic-notice').innerText()).toBe('');
    // The failed try at the stopped backend was retried on the other: clients saw no error.
    expect(traffic.statuses.length).toBeGreaterThan(0);
    expect(traffic.statuses.every((status) => status === 200)).toBe(true);

    // Self-contained: everything the page asked for was its own URL (the page, then its JSON).
    expect(pageRequests.every((url) => url.startsWith(`${gateway!.url}/status`))).toBe(true);
    expect(pageRequests.some((url) => url.endsWith('/status?format=json'))).toBe(true);
    expect(problems).toEqual([]);

    await mkdir(fileURLToPath(new URL('./artifacts/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: ARTIFACT, fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1') await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });

    // The other backend stops too: every backend is down, and the page says requests are panic-routed.
    const lastTraffic = keepTrafficFlowing(`${gateway.url}/items`, { maxRequests: 400, maxMs: 15_000 });
    try {
      await steady.close();
      await page.locator('#panic-notice .panic').waitFor({ timeout: 10_000 });
    } finally {
      await lastTraffic.stop();
    }
    expect(await page.locator('#panic-notice').innerText()).toMatch(/^Panic routing: every backend is down by its own signals .* [\d,]+ requests panic-routed since start\.$/);
    expect(await page.locator('#tile-backends-up').innerText()).toBe('0 of 2');
    expect(problems).toEqual([]);
  }, 60_000);
});
