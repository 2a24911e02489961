import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { parseGatewayConfig } from '../config/parse-gateway-config.js';
import { type BreakerStateListener, CircuitBreakerService } from './circuit-breaker.service.js';
import type { UpstreamBreaker } from './upstream-breaker.js';
import { failAttempts } from '../../test/support/breaker.js';

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';

/** Outcomes reach cockatiel through a promise it awaits: let them land before asserting. */
async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Opens the breaker (two failures), waits out the one-second cool-down, and closes it with a successful probe. */
async function cycle(breaker: UpstreamBreaker): Promise<void> {
  await failAttempts(breaker, 2);
  vi.advanceTimersByTime(1_000);
  breaker.begin().succeed();
  await flush();
}

/** A log message that starts with the backend and names the state, e.g. `http://…: circuit closed, …`. */
function naming(backend: string, state: string): unknown {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return expect.stringMatching(new RegExp(`^${escape(backend)}: circuit ${escape(state)}\\b`));
}

describe(CircuitBreakerService.name, () => {
  let service: CircuitBreakerService;
  let warn: MockInstance<Logger['warn']>;
  let log: MockInstance<Logger['log']>;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    service = new CircuitBreakerService(parseGatewayConfig(['--breaker-failures=2', '--breaker-cooldown=1s'], {}));
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('returns the same breaker for the same backend', () => {
    expect(service.breakerFor(A)).toBe(service.breakerFor(A));
  });

  it('returns a different breaker for a different backend', () => {
    expect(service.breakerFor(A)).not.toBe(service.breakerFor(B));
  });

  it('opens a breaker after --breaker-failures consecutive failures', async () => {
    const breaker = service.breakerFor(A);
    await failAttempts(breaker, 1);
    expect(breaker.state).toBe('closed');
    await failAttempts(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.canTakeTraffic).toBe(false);
  });

  it('lets the probe through after --breaker-cooldown', async () => {
    const breaker = service.breakerFor(A);
    await failAttempts(breaker, 2);
    vi.advanceTimersByTime(999);
    expect(breaker.canTakeTraffic).toBe(false);
    vi.advanceTimersByTime(1);
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it("keeps one backend's failures away from another backend's breaker", async () => {
    await failAttempts(service.breakerFor(A), 2);
    expect(service.breakerFor(A).state).toBe('open');
    expect(service.breakerFor(B).state).toBe('closed');
    expect(service.breakerFor(B).canTakeTraffic).toBe(true);
  });

  it('hands every listener (backend, state) once per change', async () => {
    const first = vi.fn<BreakerStateListener>();
    const second = vi.fn<BreakerStateListener>();
    service.onStateChange(first);
    service.onStateChange(second);
    await cycle(service.breakerFor(A));
    const expected = [
      [A, 'open', 'local'],
      [A, 'half-open', 'local'],
      [A, 'closed', 'local'],
    ];
    expect(first.mock.calls).toEqual(expected);
    expect(second.mock.calls).toEqual(expected);
  });

  it('names the backend whose breaker changed', async () => {
    const listener = vi.fn<BreakerStateListener>();
    service.onStateChange(listener);
    service.breakerFor(A);
    await failAttempts(service.breakerFor(B), 2);
    expect(listener.mock.calls).toEqual([[B, 'open', 'local']]);
  });

  it('reports changes of a breaker created before the listener subscribed', async () => {
    const breaker = service.breakerFor(A);
    const listener = vi.fn<BreakerStateListener>();
    service.onStateChange(listener);
    await failAttempts(breaker, 2);
    expect(listener).toHaveBeenCalledExactlyOnceWith(A, 'open', 'local');
  });

  it('warns once, naming the backend and the cool-down, when a breaker opens', async () => {
    await failAttempts(service.breakerFor(A), 2);
    expect(warn).toHaveBeenCalledOnce();
    expect(warn).toHaveBeenCalledWith(naming(A, 'open'));
    expect(warn.mock.calls[0][0]).toContain('after 1s');
    expect(log).not.toHaveBeenCalled();
  });

  it('logs half-open and closed once each, naming the backend and the state', async () => {
    await cycle(service.breakerFor(A));
    expect(warn).toHaveBeenCalledOnce();
    expect(log.mock.calls).toEqual([[naming(A, 'half-open')], [naming(A, 'closed')]]);
  });

  it('logs and reports a reset breaker as closed only, without a passing open', async () => {
    const breaker = service.breakerFor(A);
    await failAttempts(breaker, 2);
    warn.mockClear();
    const listener = vi.fn<BreakerStateListener>();
    service.onStateChange(listener);
    breaker.reset();
    expect(warn).not.toHaveBeenCalled();
    expect(log.mock.calls).toEqual([[naming(A, 'closed')]]);
    expect(listener.mock.calls).toEqual([[A, 'closed', 'local']]);
  });

  it('logs nothing while failures stay below --breaker-failures', async () => {
    await failAttempts(service.breakerFor(A), 1);
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });
});
