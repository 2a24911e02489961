import { CircuitState } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { breakerStateValue, healthValue } from './backend-gauge-values.js';
import type { BackendState } from './metrics.service.js';

describe(breakerStateValue.name, () => {
  it('maps closed to 0, half-open to 1 and open to 2', () => {
    expect(breakerStateValue('closed')).toBe(0);
    expect(breakerStateValue('half-open')).toBe(1);
    expect(breakerStateValue('open')).toBe(2);
  });

  it('does not follow cockatiel’s own numbering, where open is 1 and half-open 2', () => {
    expect(breakerStateValue('open')).not.toBe(CircuitState.Open);
    expect(breakerStateValue('half-open')).not.toBe(CircuitState.HalfOpen);
  });

  it('throws on a state it does not know rather than reporting a wrong number', () => {
    expect(() => breakerStateValue('isolated' as BackendState)).toThrow(/isolated/);
  });
});

describe(healthValue.name, () => {
  it('maps healthy to 1 and unhealthy to 0', () => {
    expect(healthValue('healthy')).toBe(1);
    expect(healthValue('unhealthy')).toBe(0);
  });
});
