import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LivenessService } from './liveness.service.js';

describe(LivenessService.name, () => {
  let liveness: LivenessService;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    liveness = new LivenessService();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports UP with no uptime at start', () => {
    expect(liveness.report()).toEqual({ status: 'UP', uptime: '0s' });
  });

  it.each([
    [59_000, '59s'],
    [125_000, '2m5s'],
    [3_605_000, '1h0m5s'],
    [1_999, '1s'],
    [999, '0s'],
    [60_999, '1m0s'],
  ])('reports the whole seconds since start after %d ms as %j', (elapsedMs, uptime) => {
    vi.advanceTimersByTime(elapsedMs);
    expect(liveness.report()).toEqual({ status: 'UP', uptime });
  });

  it('reports relative to a given time', () => {
    expect(liveness.report(Date.now() + 125_500).uptime).toBe('2m5s');
  });
});
