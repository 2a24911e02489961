import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built gateway (npm test builds first) and waits for it to exit by itself. */
function runGateway(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Only PATH is inherited, so the machine's own variables cannot change the outcome.
    const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not exit: ${stdout}${stderr}`));
    }, 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the gateway’s command line', () => {
  it.each([
    [['--rate-limit=abc'], {}, '--rate-limit', '"abc"'],
    [['-rate-limit', '-5'], {}, '--rate-limit', '"-5"'],
    [['--backends=ftp://x'], {}, '--backends', '"ftp://x"'],
    [['--read-timeout=5x'], {}, '--read-timeout', '"5x"'],
    [['--listen', 'nowhere'], {}, '--listen', '"nowhere"'],
    [['--no-such-flag=1'], {}, '--no-such-flag', ''],
    [[], { RATE_LIMIT: 'abc' }, 'RATE_LIMIT', '"abc"'],
    [[], { BACKENDS: 'ftp://x' }, 'BACKENDS', '"ftp://x"'],
    [[], { WRITE_TIMEOUT: '10' }, 'WRITE_TIMEOUT', '"10"'],
  ])('rejects %j %j with one line naming %s and exit code 2', async (args, env, name, value) => {
    const run = await runGateway(['--listen=127.0.0.1:0', ...args], env);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).toContain(value);
    // It exits before Nest starts, so nothing was logged and nothing listened.
    expect(run.stdout).toBe('');
  });

  it('--help lists every flag with its variable and default, and exits 0', async () => {
    const run = await runGateway(['--help']);
    expect(run.code).toBe(0);
    for (const [flag, variable, fallback] of [
      ['--listen', 'LISTEN', '":3000"'],
      ['--read-timeout', 'READ_TIMEOUT', '"5s"'],
      ['--write-timeout', 'WRITE_TIMEOUT', '"10s"'],
      ['--rate-limit', 'RATE_LIMIT', '"100"'],
      ['--rate-limit-scope', 'RATE_LIMIT_SCOPE', '"client"'],
      ['--trust-proxy', 'TRUST_PROXY', '"false"'],
      ['--backends', 'BACKENDS', '"http://localhost:8080"'],
    ]) {
      const line = run.stdout.split('\n').find((l) => l.trimStart().startsWith(`${flag} `) || l.trim() === flag);
      expect(line, flag).toBeDefined();
      expect(line).toContain(variable);
      expect(line).toContain(fallback);
    }
  });
});
