import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HostHeaderCheck } from './host-header.js';

/** A request as Node parses one: `headers.host` is the first Host line, `rawHeaders` has them all. */
function request(hosts: string[], minor = 1): IncomingMessage {
  const rawHeaders = hosts.flatMap((host) => ['Host', host]).concat(['Accept', '*/*']);
  return { rawHeaders, headers: hosts.length > 0 ? { host: hosts[0] } : {}, httpVersionMajor: 1, httpVersionMinor: minor } as unknown as IncomingMessage;
}

describe(HostHeaderCheck.name, () => {
  it.each(['gw.example', 'gw.example:8080', '127.0.0.1', '[::1]:3000', '[2001:db8::1]', 'xn--bcher-kva.example', 'a_b.example', 'gw%2Dx.example'])('accepts %s', (host) => {
    expect(new HostHeaderCheck().isValid(request([host]))).toBe(true);
  });

  it.each(['', 'evil.example/x', 'user@gw.example', 'gw.example:80x', '::1', 'gw example', 'gw.example?x', '[::1', 'gw.example#x', '%zz.example'])('refuses %j', (host) => {
    expect(new HostHeaderCheck().isValid(request([host]))).toBe(false);
  });

  it('refuses two Host lines, even with one value', () => {
    expect(new HostHeaderCheck().isValid(request(['gw.example', 'gw.example']))).toBe(false);
  });

  it('requires a Host on HTTP/1.1, not on HTTP/1.0', () => {
    expect(new HostHeaderCheck().isValid(request([], 1))).toBe(false);
    expect(new HostHeaderCheck().isValid(request([], 0))).toBe(true);
  });

  it('still refuses a bad Host after a good one was remembered', () => {
    const check = new HostHeaderCheck();
    expect(check.isValid(request(['gw.example']))).toBe(true);
    expect(check.isValid(request(['gw.example/x']))).toBe(false);
    expect(check.isValid(request(['gw.example']))).toBe(true);
  });
});
