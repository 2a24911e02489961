import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.js';

describe(RetryBudget.name, () => {
  it('always allows three retries in flight, however few requests there are', () => {
    const budget = new RetryBudget();
    expect([budget.tryAcquire(1), budget.tryAcquire(1), budget.tryAcquire(1), budget.tryAcquire(1)]).toEqual([true, true, true, false]);
    expect(budget.retriesInFlight).toBe(3);
  });

  it('allows retries up to 20% of the requests in flight when that is more', () => {
    const budget = new RetryBudget();
    const granted = Array.from({ length: 30 }, () => budget.tryAcquire(100)).filter(Boolean).length;
    expect(granted).toBe(20);
  });

  it('gives a slot back when a retry ends', () => {
    const budget = new RetryBudget();
    for (let i = 0; i < 3; i++) budget.tryAcquire(0);
    expect(budget.tryAcquire(0)).toBe(false);
    budget.release();
    expect(budget.tryAcquire(0)).toBe(true);
  });

  it('never goes below zero retries in flight', () => {
    const budget = new RetryBudget();
    budget.release();
    expect(budget.retriesInFlight).toBe(0);
  });

  it('takes its ratio and minimum from the constructor', () => {
    const budget = new RetryBudget(0.5, 1);
    expect([budget.tryAcquire(4), budget.tryAcquire(4), budget.tryAcquire(4)]).toEqual([true, true, false]);
  });
});
