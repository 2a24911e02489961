import { readFileSync } from 'node:fs';

/**
 * The repository's package.json, two folders up from this file wherever it runs: src/status/ in
 * the tests and under `nest start`, dist/status/ in a build and in the image (/app/dist next to
 * /app/package.json). An import would have the compiler copy it into dist/ under another path.
 */
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

/**
 * The gateway's version as package.json states it; `unknown` when it cannot be read, because a
 * status page that cannot name its version is still worth more than a gateway that does not start.
 */
export function readGatewayVersion(packageJson: URL = PACKAGE_JSON): string {
  try {
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
    return typeof version === 'string' && version !== '' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
