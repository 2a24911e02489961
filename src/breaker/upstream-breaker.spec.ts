import { CircuitState } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BreakerState, toBreakerState, UpstreamBreaker } from './upstream-breaker.js';
import { failAttempts } from '../../test/support/breaker.js';

const COOLDOWN_MS = 10_000;

/** Outcomes reach cockatiel through a promise it awaits: let them land before asserting. */
async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

describe(UpstreamBreaker.name, () => {
  const start = new Date('2025-01-01T00:00:00Z').getTime();
  let breaker: UpstreamBreaker;

  /** Reports `times` consecutive failed attempts, each settled before the next begins. */
  const failTimes = (times: number) => failAttempts(breaker, times);

  async function succeedOnce(): Promise<void> {
    breaker.begin().succeed();
    await flush();
  }

  /** Five consecutive failures, then the full cool-down: the next attempt is the probe. */
  async function openAndCoolDown(): Promise<void> {
    await failTimes(5);
    vi.advanceTimersByTime(COOLDOWN_MS);
  }

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(start);
    breaker = new UpstreamBreaker({ failures: 5, cooldownMs: COOLDOWN_MS });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('with failures: 0 (--breaker-failures=0), never opens however many failures it hears', async () => {
    const off = new UpstreamBreaker({ failures: 0, cooldownMs: COOLDOWN_MS });
    await failAttempts(off, 50);
    expect([off.state, off.canTakeTraffic]).toEqual(['closed', true]);
  });

  it('starts closed and takes traffic', () => {
    expect(breaker.state).toBe('closed');
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it('stays closed and keeps taking traffic through four consecutive failures', async () => {
    for (let i = 0; i < 4; i++) {
      await failTimes(1);
      expect(breaker.state).toBe('closed');
      expect(breaker.canTakeTraffic).toBe(true);
    }
  });

  it('resets the failure count on a success', async () => {
    await failTimes(4);
    await succeedOnce();
    await failTimes(4);
    expect(breaker.state).toBe('closed');
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it('opens on the fifth consecutive failure and stops taking traffic', async () => {
    await failTimes(5);
    expect(breaker.state).toBe('open');
    expect(breaker.canTakeTraffic).toBe(false);
  });

  it('stays out of rotation until the full cool-down has passed', async () => {
    await failTimes(5);
    vi.advanceTimersByTime(COOLDOWN_MS - 1);
    expect(breaker.canTakeTraffic).toBe(false);
    vi.advanceTimersByTime(1);
    expect(breaker.canTakeTraffic).toBe(true);
    // Asking does not start the probe: only begin() does.
    expect(breaker.state).toBe('open');
  });

  it('moves to half-open synchronously when the probe begins after the cool-down', async () => {
    await openAndCoolDown();
    breaker.begin();
    expect(breaker.state).toBe('half-open');
    expect(breaker.canTakeTraffic).toBe(false);
  });

  it('takes no other traffic while the probe is out, however long it takes', async () => {
    await openAndCoolDown();
    breaker.begin();
    await flush();
    expect(breaker.canTakeTraffic).toBe(false);
    vi.advanceTimersByTime(5 * COOLDOWN_MS);
    expect(breaker.state).toBe('half-open');
    expect(breaker.canTakeTraffic).toBe(false);
  });

  it('closes when the probe succeeds', async () => {
    await openAndCoolDown();
    breaker.begin().succeed();
    await flush();
    expect(breaker.state).toBe('closed');
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it('needs five fresh consecutive failures to open again after a successful probe', async () => {
    await openAndCoolDown();
    breaker.begin().succeed();
    await flush();
    await failTimes(4);
    expect(breaker.state).toBe('closed');
    await failTimes(1);
    expect(breaker.state).toBe('open');
  });

  it('re-opens for another full cool-down when the probe fails', async () => {
    await openAndCoolDown();
    const probe = breaker.begin();
    vi.advanceTimersByTime(2_000);
    probe.fail(new Error('socket hang up'));
    await flush();
    expect(breaker.state).toBe('open');
    expect(breaker.canTakeTraffic).toBe(false);
    vi.advanceTimersByTime(COOLDOWN_MS - 1);
    expect(breaker.canTakeTraffic).toBe(false);
    vi.advanceTimersByTime(1);
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it('ignores a failure from an attempt that began before the breaker opened, so the probe decides', async () => {
    const slow = breaker.begin(); // still waiting for its backend when the breaker opens
    await openAndCoolDown();
    const probe = breaker.begin();
    slow.fail(new Error('timed out'));
    await flush();
    expect(breaker.state).toBe('half-open');
    probe.succeed();
    await flush();
    expect(breaker.state).toBe('closed');
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it('counts a probe abandoned by its client as failed and re-opens', async () => {
    await openAndCoolDown();
    breaker.begin().abandon();
    await flush();
    expect(breaker.state).toBe('open');
    expect(breaker.canTakeTraffic).toBe(false);
    vi.advanceTimersByTime(COOLDOWN_MS);
    expect(breaker.canTakeTraffic).toBe(true);
  });

  it('leaves the failure count untouched when an attempt is abandoned in closed state', async () => {
    await failTimes(4);
    breaker.begin().abandon();
    await flush();
    // Not counted as a failure...
    expect(breaker.state).toBe('closed');
    await failTimes(1);
    // ...nor as a success that would have reset the count.
    expect(breaker.state).toBe('open');
  });

  it.each<{ order: string; report: (attempt: ReturnType<UpstreamBreaker['begin']>) => void; state: BreakerState }>([
    {
      order: 'fail() then succeed()',
      report: (attempt) => {
        attempt.fail(new Error('boom'));
        attempt.succeed();
      },
      state: 'open',
    },
    {
      order: 'fail() then abandon()',
      report: (attempt) => {
        attempt.fail(new Error('boom'));
        attempt.abandon();
      },
      state: 'open',
    },
    {
      order: 'succeed() then fail()',
      report: (attempt) => {
        attempt.succeed();
        attempt.fail(new Error('boom'));
      },
      state: 'closed',
    },
  ])('reports an attempt once: after four failures, $order leaves it $state', async ({ report, state }) => {
    await failTimes(4);
    report(breaker.begin());
    await flush();
    expect(breaker.state).toBe(state);
  });

  it('ignores succeed() on a probe that already failed', async () => {
    await openAndCoolDown();
    const probe = breaker.begin();
    probe.fail(new Error('boom'));
    probe.succeed();
    await flush();
    expect(breaker.state).toBe('open');
    expect(breaker.canTakeTraffic).toBe(false);
  });

  it('reports open, half-open and closed once each, in order, as strings', async () => {
    const listener = vi.fn<(state: BreakerState) => void>();
    breaker.onStateChange(listener);
    await openAndCoolDown();
    breaker.begin().succeed();
    await flush();
    expect(listener.mock.calls).toEqual([['open', 'local'], ['half-open', 'local'], ['closed', 'local']]);
  });

  it('reports nothing while failures stay below the threshold', async () => {
    const listener = vi.fn<(state: BreakerState) => void>();
    breaker.onStateChange(listener);
    await failTimes(4);
    await succeedOnce();
    expect(listener).not.toHaveBeenCalled();
  });

  describe('reset()', () => {
    it('closes an open breaker at once, before its cool-down, and it takes traffic again', async () => {
      await failTimes(5);
      breaker.reset();
      expect(breaker.state).toBe('closed');
      expect(breaker.canTakeTraffic).toBe(true);
    });

    it('tells listeners only that the breaker closed, once', async () => {
      await failTimes(5);
      const listener = vi.fn<(state: BreakerState) => void>();
      breaker.onStateChange(listener);
      breaker.reset();
      await flush();
      expect(listener.mock.calls).toEqual([['closed', 'local']]);
    });

    it('tells listeners nothing when the breaker is already closed', async () => {
      await failTimes(3);
      const listener = vi.fn<(state: BreakerState) => void>();
      breaker.onStateChange(listener);
      breaker.reset();
      await flush();
      expect(listener).not.toHaveBeenCalled();
      expect(breaker.state).toBe('closed');
    });

    it('leaves the failure count of a closed breaker alone', async () => {
      await failTimes(4);
      breaker.reset();
      await failTimes(1);
      expect(breaker.state).toBe('open');
    });

    it('needs five fresh consecutive failures to open again afterwards', async () => {
      await failTimes(5);
      breaker.reset();
      await failTimes(4);
      expect(breaker.state).toBe('closed');
      await failTimes(1);
      expect(breaker.state).toBe('open');
    });

    it('opens again for a full cool-down, counted from the new opening', async () => {
      await failTimes(5);
      vi.advanceTimersByTime(COOLDOWN_MS - 1);
      breaker.reset();
      await failTimes(5);
      vi.advanceTimersByTime(COOLDOWN_MS - 1);
      expect(breaker.canTakeTraffic).toBe(false);
      vi.advanceTimersByTime(1);
      expect(breaker.canTakeTraffic).toBe(true);
    });

    it('closes a half-open breaker, and its probe failing afterwards does not re-open it', async () => {
      await openAndCoolDown();
      const probe = breaker.begin();
      expect(breaker.state).toBe('half-open');
      const listener = vi.fn<(state: BreakerState) => void>();
      breaker.onStateChange(listener);
      breaker.reset();
      probe.fail(new Error('socket hang up'));
      await flush();
      expect(breaker.state).toBe('closed');
      expect(breaker.canTakeTraffic).toBe(true);
      expect(listener.mock.calls).toEqual([['closed', 'local']]);
    });

    it('does not count the failure of an attempt begun before the reset towards opening again', async () => {
      const slow = breaker.begin(); // still waiting for its backend through the opening and the reset
      await failTimes(5);
      breaker.reset();
      await failTimes(4);
      slow.fail(new Error('timed out'));
      await flush();
      expect(breaker.state).toBe('closed');
    });
  });

  describe('in a cluster', () => {
    it('holdOpen() takes a closed breaker out of rotation for the time given, reported as open from the cluster', () => {
      const listener = vi.fn();
      breaker.onStateChange(listener);
      breaker.holdOpen(4_000);
      expect([breaker.state, breaker.origin, breaker.canTakeTraffic]).toEqual(['open', 'cluster', false]);
      expect(listener.mock.calls).toEqual([['open', 'cluster']]);
      expect(breaker.probeDueAt).toBe(start + 4_000);
    });

    it('lets no probe through after a hold ends until the cluster grants this instance the probe', () => {
      breaker.holdOpen(4_000);
      vi.advanceTimersByTime(4_000);
      expect(breaker.canTakeTraffic).toBe(false);
      breaker.permitProbe();
      expect(breaker.canTakeTraffic).toBe(true);
    });

    it("closes a held breaker when its probe succeeds, and says so as this instance's finding", () => {
      const listener = vi.fn();
      breaker.holdOpen(1_000);
      breaker.onStateChange(listener);
      vi.advanceTimersByTime(1_000);
      breaker.permitProbe();
      const probe = breaker.begin();
      expect([breaker.state, breaker.canTakeTraffic]).toEqual(['half-open', false]);
      probe.succeed();
      expect([breaker.state, breaker.origin, breaker.canTakeTraffic]).toEqual(['closed', 'local', true]);
      expect(listener.mock.calls).toEqual([
        ['half-open', 'local'],
        ['closed', 'local'],
      ]);
    });

    it('re-opens a held breaker for a whole cool-down when its probe fails', () => {
      breaker.holdOpen(1_000);
      vi.advanceTimersByTime(1_000);
      breaker.permitProbe();
      breaker.begin().fail(new Error('ECONNREFUSED'));
      expect([breaker.state, breaker.origin, breaker.canTakeTraffic]).toEqual(['open', 'local', false]);
      expect(breaker.probeDueAt).toBe(Date.now() + COOLDOWN_MS);
    });

    it('gives an attempt at a held breaker that is not the probe no say (panic routing)', () => {
      breaker.holdOpen(4_000);
      breaker.begin().succeed();
      expect(breaker.state).toBe('open');
    });

    it('reset() from the cluster ends a hold, reported as closed from the cluster', () => {
      const listener = vi.fn();
      breaker.holdOpen(4_000);
      breaker.onStateChange(listener);
      breaker.reset('cluster');
      expect([breaker.state, breaker.origin, breaker.canTakeTraffic]).toEqual(['closed', 'cluster', true]);
      expect(listener.mock.calls).toEqual([['closed', 'cluster']]);
    });

    it("with gated probes, an opened breaker waits past its cool-down for the cluster's lease", async () => {
      breaker.gateProbes();
      await openAndCoolDown();
      expect(breaker.canTakeTraffic).toBe(false);
      breaker.permitProbe();
      expect(breaker.canTakeTraffic).toBe(true);
    });

    it('a lease granted for one opening does not carry over to the next', async () => {
      breaker.gateProbes();
      await openAndCoolDown();
      breaker.permitProbe();
      breaker.begin().fail(new Error('still down'));
      await flush();
      vi.advanceTimersByTime(COOLDOWN_MS);
      expect([breaker.state, breaker.canTakeTraffic]).toEqual(['open', false]);
    });
  });
});

describe(toBreakerState.name, () => {
  it.each([
    { circuit: CircuitState.Closed, name: 'Closed', state: 'closed' },
    { circuit: CircuitState.Open, name: 'Open', state: 'open' },
    { circuit: CircuitState.HalfOpen, name: 'HalfOpen', state: 'half-open' },
    { circuit: CircuitState.Isolated, name: 'Isolated', state: 'open' },
  ])("maps cockatiel's $name to $state", ({ circuit, state }) => {
    expect(toBreakerState(circuit)).toBe(state);
  });

  it('throws on a state cockatiel does not define', () => {
    expect(() => toBreakerState(99 as CircuitState)).toThrow('unknown circuit state 99');
  });
});
