import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { Upstream } from '../upstream.js';
import { poolOf, serviceOver } from '../../../test/support/service-pool.js';
import { UpstreamBreaker } from '../../breaker/upstream-breaker.js';
import { type HealthChangeListener, ActiveHealthChecker } from './active-health-checker.js';
import type { HealthProbe, ProbeSettings } from './health-probe.js';
import { failAttempts } from '../../../test/support/breaker.js';

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';
const INTERVAL_MS = 1_000;

/**
 * Answers each check from a script per backend: `true` passes, `false` fails, `'hang'` never
 * answers until the gateway stops. Once a backend's script runs out, its checks pass.
 */
class ScriptedProbe implements HealthProbe {
  readonly scripts = new Map<string, (boolean | 'hang')[]>();
  readonly calls: string[] = [];
  readonly signals: AbortSignal[] = [];

  script(upstream: Upstream, ...results: (boolean | 'hang')[]): void {
    this.scripts.set(upstream.url, results);
  }

  check(upstream: Upstream, _settings: ProbeSettings, signal: AbortSignal): Promise<boolean> {
    this.calls.push(upstream.url);
    this.signals.push(signal);
    const result = this.scripts.get(upstream.url)?.shift() ?? true;
    if (result !== 'hang') return Promise.resolve(result);
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
  }
}

describe(ActiveHealthChecker.name, () => {
  let a: Upstream;
  let b: Upstream;
  let probe: ScriptedProbe;
  let service: ActiveHealthChecker;
  let warn: MockInstance<Logger['warn']>;
  let log: MockInstance<Logger['log']>;

  function serviceWith(flags: string[]): ActiveHealthChecker {
    const settings = [`--backends=${A},${B}`, `--health-check-interval=${INTERVAL_MS}ms`, '--health-check-fall=3', '--health-check-rise=2', ...flags];
    return new ActiveHealthChecker(poolOf(serviceOver([a, b], settings)), probe, null);
  }

  /** Runs `rounds` rounds of checks, as the timer would. */
  async function rounds(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await service.checkAll();
  }

  /** Five consecutive failed attempts open a breaker (failures: 5). */
  const openBreaker = (upstream: Upstream) => failAttempts(upstream.breaker, 5);

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    a = new Upstream(A, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    b = new Upstream(B, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    probe = new ScriptedProbe();
    service = serviceWith([]);
  });

  afterEach(() => {
    service.onModuleDestroy();
    for (const upstream of [a, b]) upstream.close();
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('starts every backend healthy, before any check has answered', () => {
    expect(a.healthy).toBe(true);
    expect(a.isAvailable()).toBe(true);
    expect(b.healthy).toBe(true);
  });

  it('keeps a backend in rotation through one failure fewer than --health-check-fall', async () => {
    probe.script(a, false, false);
    await rounds(2);
    expect(a.healthy).toBe(true);
    expect(a.isAvailable()).toBe(true);
  });

  it('takes a backend out of rotation at the --health-check-fall-th failure in a row, even with its breaker closed', async () => {
    probe.script(a, false, false, false);
    await rounds(3);
    expect(a.healthy).toBe(false);
    expect(a.breaker.state).toBe('closed');
    expect(a.isAvailable()).toBe(false);
    expect(b.healthy).toBe(true);
  });

  it('starts counting failures again after a pass', async () => {
    probe.script(a, false, false, true, false, false);
    await rounds(5);
    expect(a.healthy).toBe(true);
    probe.script(a, false);
    await rounds(1);
    expect(a.healthy).toBe(false);
  });

  it('keeps a backend out through one pass fewer than --health-check-rise', async () => {
    probe.script(a, false, false, false, true);
    await rounds(4);
    expect(a.healthy).toBe(false);
  });

  it('starts counting passes again after a failure', async () => {
    probe.script(a, false, false, false, true, false, true);
    await rounds(6);
    expect(a.healthy).toBe(false);
    await rounds(1);
    expect(a.healthy).toBe(true);
  });

  it('puts a backend back after --health-check-rise passes in a row', async () => {
    probe.script(a, false, false, false);
    await rounds(3);
    expect(a.healthy).toBe(false);
    await rounds(1);
    expect(a.healthy).toBe(false);
    await rounds(1);
    expect(a.healthy).toBe(true);
    expect(a.isAvailable()).toBe(true);
  });

  it('leaves the breaker alone: closing it on a rise is the observers\' wiring', async () => {
    probe.script(a, false, false, false);
    await rounds(3);
    await openBreaker(a);
    await rounds(2);
    expect(a.healthy).toBe(true);
    expect(a.breaker.state).toBe('open');
  });

  it('checks every backend at each --health-check-interval once started', async () => {
    service.onModuleInit();
    expect(probe.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(probe.calls).toEqual([A, B]);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(probe.calls).toEqual([A, B, A, B]);
  });

  it('takes a backend out on the timer alone', async () => {
    probe.script(a, false, false, false);
    service.onModuleInit();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(a.healthy).toBe(true);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(a.healthy).toBe(false);
  });

  it('starts no timer when --health-check-interval is 0', async () => {
    service = serviceWith(['--health-check-interval=0']);
    service.onModuleInit();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(probe.calls).toEqual([]);
  });

  it('does not start a second check of a backend whose previous check is still out', async () => {
    probe.script(a, 'hang');
    service.onModuleInit();
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(probe.calls.filter((url) => url === A)).toHaveLength(1);
    expect(probe.calls.filter((url) => url === B)).toHaveLength(5);
  });

  it('checks a backend again once its slow check has answered', async () => {
    let answer!: (passed: boolean) => void;
    vi.spyOn(probe, 'check').mockImplementationOnce(
      (upstream) => new Promise((resolve) => {
        probe.calls.push(upstream.url);
        answer = resolve;
      }),
    );
    service.onModuleInit();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(probe.calls.filter((url) => url === A)).toHaveLength(1);
    answer(true);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(probe.calls.filter((url) => url === A)).toHaveLength(2);
  });

  it('clears its timer and aborts the checks in flight when the module is destroyed', async () => {
    probe.script(a, 'hang');
    service.onModuleInit();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    service.onModuleDestroy();
    expect(vi.getTimerCount()).toBe(0);
    expect(probe.signals.every((signal) => signal.aborted)).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(probe.calls).toEqual([A, B]);
  });

  it('ignores the result of a check cut short by shutdown', async () => {
    probe.script(a, false, false, 'hang');
    await rounds(2);
    const third = service.checkAll();
    service.onModuleDestroy();
    await third;
    expect(a.healthy).toBe(true);
  });

  it('counts a probe that rejects, against its contract, as a failure', async () => {
    vi.spyOn(probe, 'check').mockRejectedValue(new Error('bug'));
    await rounds(3);
    expect(a.healthy).toBe(false);
    expect(b.healthy).toBe(false);
  });

  it('hands every listener (backend, healthy) once per transition', async () => {
    const first = vi.fn<HealthChangeListener>();
    const second = vi.fn<HealthChangeListener>();
    service.onHealthChange(first);
    service.onHealthChange(second);
    probe.script(a, false, false, false, false, false, true, true, true, true);
    await rounds(9);
    const expected = [
      [a, false, 'local'],
      [a, true, 'local'],
    ];
    expect(first.mock.calls).toEqual(expected);
    expect(second.mock.calls).toEqual(expected);
  });

  it('warns once when a backend goes out and logs once when it comes back, naming it and the run', async () => {
    probe.script(a, false, false, false, false, false, true, true, true, true);
    await rounds(5);
    expect(warn.mock.calls).toEqual([[`${A}: health checks failing (3 in a row), out of rotation`]]);
    expect(log).not.toHaveBeenCalled();
    await rounds(4);
    expect(warn).toHaveBeenCalledOnce();
    expect(log.mock.calls).toEqual([[`${A}: health checks passing (2 in a row), back in rotation`]]);
  });

  it('logs nothing while every check passes', async () => {
    await rounds(5);
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });
});
