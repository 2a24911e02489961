import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium: playwright's own browser download cannot be fetched here, the distribution's can. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium for browser tests. A missing browser fails the test (a skipped browser test
 * would pass CI while testing nothing), with the line that installs it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: the browser tests need Debian's Chromium. Install it with: sudo apt-get update && sudo apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    timeout: 15_000,
    // With no internet here, Chromium's own background connections (updates, sync, QUIC probes)
    // are refused, and without these flags that slows or breaks its start.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
