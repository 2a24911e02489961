import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { DnsWatcher } from './dns-watcher.js';

const HOST = 'users.internal';
const REFRESH_MS = 5_000;

/** A lookup answered by hand: each call waits until the test settles it with `answer` or `fail`. */
class ManualLookup {
  private readonly pending: { resolve: (addresses: string[]) => void; reject: (error: Error) => void }[] = [];
  readonly lookup: Mock<(hostname: string) => Promise<readonly string[]>> = vi.fn(
    (_hostname: string) => new Promise<readonly string[]>((resolve, reject) => this.pending.push({ resolve, reject })),
  );

  get calls(): number {
    return this.lookup.mock.calls.length;
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** Settles the oldest lookup still out with these addresses. */
  async answer(...addresses: string[]): Promise<void> {
    this.next().resolve(addresses);
    await vi.advanceTimersByTimeAsync(0); // lets the watcher see the answer
  }

  async fail(error = Object.assign(new Error(`queryA ETIMEOUT ${HOST}`), { code: 'ETIMEOUT' })): Promise<void> {
    this.next().reject(error);
    await vi.advanceTimersByTimeAsync(0);
  }

  private next() {
    const lookup = this.pending.shift();
    if (!lookup) throw new Error('no lookup in flight');
    return lookup;
  }
}

describe(DnsWatcher.name, () => {
  let dns: ManualLookup;
  let onAddresses: Mock<(addresses: readonly string[]) => void>;
  let onError: Mock<(error: Error, kept: readonly string[]) => void>;
  let watcher: DnsWatcher;

  /** Starts the watcher and answers its first lookup. */
  async function started(...addresses: string[]): Promise<readonly string[]> {
    const starting = watcher.start();
    await dns.answer(...addresses);
    return starting;
  }

  /** Lets the refresh interval pass: the next lookup goes out. */
  const refreshDue = () => vi.advanceTimersByTimeAsync(REFRESH_MS);

  beforeEach(() => {
    vi.useFakeTimers();
    dns = new ManualLookup();
    onAddresses = vi.fn();
    onError = vi.fn();
    watcher = new DnsWatcher({ hostname: HOST, refreshMs: REFRESH_MS, lookup: dns.lookup, onAddresses, onError });
  });

  afterEach(() => {
    watcher.stop();
    // Every timer the watcher started, stop() has cleared.
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  it('resolves start() to the first addresses, sorted and deduplicated, without reporting them as a change', async () => {
    await expect(started('10.0.0.10', 'fd00::2', '10.0.0.2', '10.0.0.10')).resolves.toEqual(['10.0.0.2', '10.0.0.10', 'fd00::2']);
    expect(dns.lookup).toHaveBeenCalledWith(HOST);
    expect(watcher.current).toEqual(['10.0.0.2', '10.0.0.10', 'fd00::2']);
    expect(onAddresses).not.toHaveBeenCalled();
  });

  it('has no current addresses before the first lookup has answered', () => {
    void watcher.start();
    expect(watcher.current).toEqual([]);
  });

  it('looks the name up again every refresh interval', async () => {
    await started('10.0.0.1');
    await vi.advanceTimersByTimeAsync(REFRESH_MS - 1);
    expect(dns.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(dns.calls).toBe(2);
    await dns.answer('10.0.0.1');
    await refreshDue();
    expect(dns.calls).toBe(3);
    await dns.answer('10.0.0.1');
  });

  it('reports only a change of the set of addresses, not the same set again nor a reshuffle of it', async () => {
    await started('10.0.0.1', '10.0.0.2');
    await refreshDue();
    await dns.answer('10.0.0.1', '10.0.0.2');
    await refreshDue();
    await dns.answer('10.0.0.2', '10.0.0.1');
    expect(onAddresses).not.toHaveBeenCalled();
    await refreshDue();
    await dns.answer('10.0.0.3', '10.0.0.2');
    expect(onAddresses).toHaveBeenCalledExactlyOnceWith(['10.0.0.2', '10.0.0.3']);
    expect(watcher.current).toEqual(['10.0.0.2', '10.0.0.3']);
  });

  it('keeps the last good addresses when a lookup fails, tells onError, and reports the next change', async () => {
    await started('10.0.0.1', '10.0.0.2');
    await refreshDue();
    const outage = Object.assign(new Error(`queryA ESERVFAIL ${HOST}`), { code: 'ESERVFAIL' });
    await dns.fail(outage);
    expect(onError).toHaveBeenCalledExactlyOnceWith(outage, ['10.0.0.1', '10.0.0.2']);
    expect(watcher.current).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(onAddresses).not.toHaveBeenCalled();
    await refreshDue();
    await dns.answer('10.0.0.2');
    expect(onAddresses).toHaveBeenCalledExactlyOnceWith(['10.0.0.2']);
  });

  it('keeps the last good addresses when a lookup finds none, and tells onError', async () => {
    await started('10.0.0.1');
    await refreshDue();
    await dns.answer();
    expect(onError).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ message: expect.stringContaining(HOST) }), ['10.0.0.1']);
    expect(watcher.current).toEqual(['10.0.0.1']);
    expect(onAddresses).not.toHaveBeenCalled();
  });

  it('never starts a lookup while one is in flight: a slow lookup delays the next', async () => {
    await started('10.0.0.1');
    await refreshDue();
    expect(dns.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 3);
    expect(dns.calls).toBe(2);
    await dns.answer('10.0.0.1');
    await vi.advanceTimersByTimeAsync(REFRESH_MS - 1);
    expect(dns.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(dns.calls).toBe(3);
    await dns.answer('10.0.0.1');
  });

  it('looks up no more after stop()', async () => {
    await started('10.0.0.1');
    watcher.stop();
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 3);
    expect(dns.calls).toBe(1);
  });

  it('ignores the answer of a lookup in flight when stop() is called', async () => {
    await started('10.0.0.1');
    await refreshDue();
    watcher.stop();
    await dns.answer('10.0.0.2');
    expect(onAddresses).not.toHaveBeenCalled();
    expect(watcher.current).toEqual(['10.0.0.1']);
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 3);
    expect(dns.calls).toBe(2);
  });

  it('ignores the failure of a lookup in flight when stop() is called', async () => {
    await started('10.0.0.1');
    await refreshDue();
    watcher.stop();
    await dns.fail();
    expect(onError).not.toHaveBeenCalled();
  });

  it('rejects start() when the first lookup fails, and schedules nothing', async () => {
    const starting = watcher.start();
    const notFound = Object.assign(new Error(`queryA ENOTFOUND ${HOST}`), { code: 'ENOTFOUND' });
    const rejected = expect(starting).rejects.toBe(notFound);
    await dns.fail(notFound);
    await rejected;
    expect(vi.getTimerCount()).toBe(0);
    expect(onError).not.toHaveBeenCalled();
  });

  it('rejects start() when the first lookup finds no address', async () => {
    const starting = watcher.start();
    const rejected = expect(starting).rejects.toThrow(HOST);
    await dns.answer();
    await rejected;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stays stopped when stop() is called during the first lookup', async () => {
    const starting = watcher.start();
    watcher.stop();
    await dns.answer('10.0.0.1');
    await expect(starting).resolves.toEqual(['10.0.0.1']);
    expect(vi.getTimerCount()).toBe(0);
    await expect(watcher.start()).rejects.toThrow('stopped');
  });

  it('refuses to start twice', async () => {
    await started('10.0.0.1');
    await expect(watcher.start()).rejects.toThrow('already started');
  });

  it('keeps refreshing when onAddresses throws, and hands the error to onError', async () => {
    const bug = new Error('listener bug');
    onAddresses.mockImplementationOnce(() => {
      throw bug;
    });
    await started('10.0.0.1');
    await refreshDue();
    await dns.answer('10.0.0.2');
    expect(onError).toHaveBeenCalledExactlyOnceWith(bug, ['10.0.0.2']);
    await refreshDue();
    expect(dns.calls).toBe(3);
    await dns.answer('10.0.0.3');
    expect(onAddresses).toHaveBeenLastCalledWith(['10.0.0.3']);
  });

  it('refuses a refresh interval that is not a positive number of milliseconds', () => {
    for (const refreshMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new DnsWatcher({ hostname: HOST, refreshMs, lookup: dns.lookup, onAddresses, onError })).toThrow(RangeError);
    }
  });
});
