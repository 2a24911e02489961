import { describe, expect, it } from 'vitest';
import { spawnGateway } from './support/gateway-process.js';

/** Runs the built gateway and waits for it to exit by itself. */
async function runGateway(args: string[], env: Record<string, string> = {}) {
  const gateway = spawnGateway(args, env);
  gateway.listening.catch(() => {}); // these runs are expected to exit without listening
  const code = await gateway.exited;
  return { code, ...gateway.output() };
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

  it('refuses --admin-listen on the --listen address with one line and exit code 2', async () => {
    const run = await runGateway(['--listen=127.0.0.1:3999', '--admin-listen=127.0.0.1:3999']);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--admin-listen "127.0.0.1:3999"');
    expect(lines[0]).toContain('--listen');
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
      ['--breaker-failures', 'BREAKER_FAILURES', '"5"'],
      ['--breaker-cooldown', 'BREAKER_COOLDOWN', '"10s"'],
      ['--shutdown-timeout', 'SHUTDOWN_TIMEOUT', '"30s"'],
      ['--max-sockets-per-backend', 'MAX_SOCKETS_PER_BACKEND', '"256"'],
      ['--proxy-engine', 'PROXY_ENGINE', '"undici"'],
      ['--retries', 'RETRIES', '"2"'],
      ['--retry-buffer', 'RETRY_BUFFER', '"64KiB"'],
      ['--try-timeout', 'TRY_TIMEOUT', 'the --write-timeout'],
      ['--health-check-interval', 'HEALTH_CHECK_INTERVAL', '"5s"'],
      ['--health-check-path', 'HEALTH_CHECK_PATH', '"/"'],
      ['--health-check-timeout', 'HEALTH_CHECK_TIMEOUT', '"2s"'],
      ['--health-check-fall', 'HEALTH_CHECK_FALL', '"2"'],
      ['--health-check-rise', 'HEALTH_CHECK_RISE', '"2"'],
      ['--max-inflight-per-backend', 'MAX_INFLIGHT_PER_BACKEND', '"0"'],
      ['--drain-delay', 'DRAIN_DELAY', '"0s"'],
      ['--admin-listen', 'ADMIN_LISTEN', 'unset: on --listen'],
      ['--log-level', 'LOG_LEVEL', '"info"'],
      ['--access-log', 'ACCESS_LOG', '"true"'],
    ]) {
      const line = run.stdout.split('\n').find((l) => l.trimStart().startsWith(`${flag} `) || l.trim() === flag);
      expect(line, flag).toBeDefined();
      expect(line).toContain(variable);
      expect(line).toContain(fallback);
    }
  });
});
