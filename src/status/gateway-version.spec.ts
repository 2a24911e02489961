import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readGatewayVersion } from './gateway-version.js';

describe(readGatewayVersion.name, () => {
  const folder = mkdtempSync(join(tmpdir(), 'gateway-version-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  function packageJson(text: string): URL {
    const path = join(folder, `package-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, text);
    return pathToFileURL(path);
  }

  it('reads the repository’s package.json from where the source runs', () => {
    const expected = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(expected).toMatch(/^\d+\.\d+\.\d+/);
    expect(readGatewayVersion()).toBe(expected);
  });

  it('reads the version of the file it is given', () => {
    expect(readGatewayVersion(packageJson('{"name":"x","version":"2.3.4-rc.1"}'))).toBe('2.3.4-rc.1');
  });

  it('says unknown, and does not throw, for a missing file, a broken one or one without a version', () => {
    expect(readGatewayVersion(pathToFileURL(join(folder, 'missing.json')))).toBe('unknown');
    expect(readGatewayVersion(packageJson('{ not json'))).toBe('unknown');
    expect(readGatewayVersion(packageJson('{"name":"x"}'))).toBe('unknown');
    expect(readGatewayVersion(packageJson('{"version":7}'))).toBe('unknown');
  });
});
