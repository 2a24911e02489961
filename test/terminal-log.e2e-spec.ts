import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { rawRequest } from './support/http.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
// oxlint-disable-next-line no-control-regex -- the escape character is what colours are made of
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * The built gateway on a terminal: util-linux `script` gives it a pseudo-terminal (so stdout is a
 * TTY, as for someone running it by hand) and copies what it prints to our pipe.
 */
function onTerminal(args: readonly string[]): { script: ChildProcessWithoutNullStreams; screen: () => string } {
  const command = `exec ${[process.execPath, main, ...args].map(quote).join(' ')}`;
  const script = spawn('script', ['-qefc', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '' } });
  let screen = '';
  script.stdout.on('data', (data: Buffer) => (screen += data.toString()));
  const guard = setTimeout(() => script.kill('SIGKILL'), 20_000);
  script.on('close', () => clearTimeout(guard));
  return { script, screen: () => screen.replace(ANSI, '').replaceAll('\r\n', '\n') };
}

async function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const found = find();
    if (found !== undefined) return found;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('logs on a terminal', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('are one line each, a request’s included', async () => {
    const { script, screen } = onTerminal(['--listen=127.0.0.1:0', `--backends=${backend.url}`, '--health-check-interval=0']);
    const exited = new Promise((resolve) => script.on('close', resolve));
    try {
      const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(screen())?.[1], 'the listening line');
      await rawRequest(`http://127.0.0.1:${port}/users?page=2`, { headers: { 'x-request-id': 'on-a-terminal' } });
      const line = await waitFor(() => screen().split('\n').find((l) => l.includes('on-a-terminal')), 'the request’s line');
      expect(line).toMatch(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO: GET /users\\?page=2 200 [\\d.]+ms → ${backend.url} \\(reqId on-a-terminal, client 127\\.0\\.0\\.1\\)$`),
      );
      const lines = screen().trimEnd().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO: \[Gateway\] listening on http:\/\/127\.0\.0\.1:\d+, proxying to .+ \(proxy engine: undici\)$/),
        line,
      ]);
    } finally {
      // The gateway is script's child (`exec` replaced the shell); stop it as a user would.
      const [gateway] = readFileSync(`/proc/${script.pid}/task/${script.pid}/children`, 'utf8').trim().split(/\s+/);
      if (gateway) process.kill(Number(gateway), 'SIGTERM');
      await exited;
    }
  });
});
